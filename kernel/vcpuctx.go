package kernel

import "grove/x86"

// vcpuContext is the start state a guest hands Grove's vcpu_op initialise
// for a secondary vCPU: hv/abi/vcpu.go's VCPUContext, 128 bytes, copied
// because kernel sits below hv and may not import hv/abi (a host test checks
// this copy against abi's decoder). Only the guest flavour uses it; it lives
// in an untagged file so that test builds on the host.
type vcpuContext struct {
	mode, flags                 uint32
	rip, rsp, rdi, rsi, rbx     uint64
	rflags, cr0, cr3, cr4, efer uint64
	fsBase, gsBase              uint64
	reserved                    [3]uint64
}

// vcpuMode64 is hv/abi's VCPUMode64: start in long mode.
const vcpuMode64 = 1

// apControl is the control-register state a secondary CPU shares with the
// boot CPU: the same paging, SSE and EFER settings.
type apControl struct{ cr0, cr3, cr4, efer uint64 }

// setAPStart fills ctx so that the vCPU enters apEntry64 the way the
// metal trampoline leaves it: RSP = its boot stack, RDI = its index in cpus,
// RSI = its FS base, interrupts off (RFLAGS holds only the must-be-one bit),
// the boot CPU's control registers. The FS base is also loaded directly;
// apEntry64 writes it again.
// Boot path: no allocation.
func (ctx *vcpuContext) setAPStart(entry, stackTop, fsBase uintptr, idx int, cr apControl) {
	*ctx = vcpuContext{
		mode:   vcpuMode64,
		rip:    uint64(entry),
		rsp:    uint64(stackTop),
		rdi:    uint64(idx),
		rsi:    uint64(fsBase),
		rflags: x86.RFLAGSMBS,
		cr0:    cr.cr0,
		cr3:    cr.cr3,
		cr4:    cr.cr4,
		efer:   cr.efer,
		fsBase: uint64(fsBase),
	}
}
