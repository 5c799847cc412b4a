package hv

import (
	"grove/hv/abi"
	"grove/kernel"
	"grove/x86"
)

// CPUID as the guest sees it (leaves and bits in package x86).
const cpuidHVRangeEnd = 0x40010000

func exitCPUID(v *VCPU, x *exitState) outcome {
	a, b, c, d := v.cpuid(uint32(x.rax), uint32(v.regs.RCX))
	x.rax = uint64(a)
	v.regs.RBX, v.regs.RCX, v.regs.RDX = uint64(b), uint64(c), uint64(d)
	x.advance(2)
	return resume
}

// cpuid is CPUID leaf.sub as v's guest sees it: the generic policy, the
// PC platform's on top for its domains, and v's place in its domain. The
// exit fast path's table (fastexit.go) is made from it too.
func (v *VCPU) cpuid(leaf, sub uint32) (a, b, c, d uint32) {
	a, b, c, d = guestCPUID(leaf, sub)
	if v.dom.pc != nil {
		a, b, c, d = pcCPUID(v, leaf, a, b, c, d)
	}
	if leaf == abi.CPUIDTopology {
		a, b = uint32(len(v.dom.vcpus)), uint32(v.id)
	}
	return
}

// guestCPUID is the host's CPUID with SVM hidden, the hypervisor-present bit
// set, and Grove's leaves at 0x40000000.
func guestCPUID(leaf, sub uint32) (a, b, c, d uint32) {
	le := func(s string) uint32 { return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24 }
	switch {
	case leaf == abi.CPUIDSignature:
		return abi.CPUIDTiming, le(abi.Signature[0:]), le(abi.Signature[4:]), le(abi.Signature[8:])
	case leaf == abi.CPUIDTiming:
		return uint32(kernel.TSCHz() / 1000), 0, 0, 0
	case leaf > abi.CPUIDSignature && leaf < cpuidHVRangeEnd:
		return 0, 0, 0, 0
	case leaf == x86.CPUIDLeafSVM:
		return 0, 0, 0, 0
	}
	a, b, c, d = kernel.CPUID(leaf, sub)
	switch leaf {
	case 1:
		c |= x86.CPUIDStd1ECXHypervisor
		c &^= x86.CPUIDStd1ECXVMX | x86.CPUIDStd1ECXOSXSAVE // no OSXSAVE until the guest sets CR4.OSXSAVE
	case x86.CPUIDLeafExt1:
		c &^= x86.CPUIDExt1ECXSVM
	}
	return
}
