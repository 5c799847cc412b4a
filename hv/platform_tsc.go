package hv

import (
	"grove/kernel"
	"grove/x86"
)

// The TSC of a PC-platform vCPU: its guest may write it (IA32_TIME_STAMP_
// COUNTER; kvm-unit-tests' tsc test does) and set TSC_AUX, which RDTSCP
// and RDPID read (Linux puts its CPU number there). Writes move the vCPU's
// own offset (VMCB TSC_OFFSET = that offset minus the CPU's skew, prepare
// in sched_run.go); TSC_AUX is kept in the vCPU's svm.Regs, which vmrun
// loads into the MSR for the guest's run and swaps back for the host's
// (Grove's kernel reads its CPU index from it), since VMRUN does not switch
// it.

// msrTSCAux is TSC_AUX (AMD APM vol. 2, 13.2.4); bits 63:32 are reserved.
const msrTSCAux = 0xc0000103

// guestTSC is what v's RDTSC reads now.
func (v *VCPU) guestTSC() uint64 { return kernel.ReadTSC() + uint64(v.tscOffset) }

// pcTSCMSR reads or writes the TSC or TSC_AUX; false means #GP.
func pcTSCMSR(v *VCPU, msr uint32, write bool, val uint64) (uint64, bool) {
	switch {
	case msr == x86.MSRTSC && write:
		v.tscOffset = int64(val - kernel.ReadTSC())
	case msr == x86.MSRTSC:
		return v.guestTSC(), true
	case write && val>>32 != 0:
		return 0, false
	case write:
		v.regs.TSCAux = val
	default:
		return v.regs.TSCAux, true
	}
	return 0, true
}

// tscDeadlineToHost and tscDeadlineToGuest convert IA32_TSC_DEADLINE
// between the guest's TSC, which its writes may have moved, and the host's
// that the local APIC model counts in (0 disarms, either way).
func (v *VCPU) tscDeadlineToHost(d uint64) uint64 {
	if d == 0 {
		return 0
	}
	return d - uint64(v.tscOffset)
}

func (v *VCPU) tscDeadlineToGuest(d uint64) uint64 {
	if d == 0 {
		return 0
	}
	return d + uint64(v.tscOffset)
}
