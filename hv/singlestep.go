package hv

import (
	"grove/hv/svm"
	"grove/x86"
)

// A guest that single-steps (RFLAGS.TF) takes a #DB trap after each
// instruction it executes (AMD APM vol. 2, 13.1.3.4). An instruction the
// hypervisor carries out for it -- CPUID, port I/O, MSR access, an MMIO
// move, HLT -- never executes in the guest, so the trap must come from
// here, as KVM's kvm_skip_emulated_instruction makes it: a debugger
// stepping over CPUID would otherwise run on to the next instruction
// (kvm-unit-tests' debug test, "Single-step #DB on emulated
// instructions"). The fast path leaves such exits to Go (hv/svm/fast.go).

// DR6 bits (AMD APM vol. 2, 13.1.1.3): B0-B3, the breakpoint conditions
// met, and BS, single step.
const (
	dr6Breakpoints = 0xf
	dr6BS          = 1 << 14
)

// stepTrap injects the single-step #DB after an instruction the
// hypervisor completed (moved RIP past) for a guest with RFLAGS.TF set,
// with DR6 saying so. TF set by Grove itself to step an NMI handler's
// IRET (platform_nmi.go) is not the guest's, and an instruction that
// faulted has its exception to deliver instead.
func (v *VCPU) stepTrap(x *exitState) {
	m := v.vmcb
	if m.RFLAGS()&x86.RFLAGSTF == 0 || v.nmi.step || x.inject.Valid() {
		return
	}
	x.inject = svm.Exception(x86.VecDB, false, 0)
	m.SetDR6(m.DR6()&^dr6Breakpoints | dr6BS)
}
