package hv

import (
	"fmt"
	"testing"

	"grove/hv/svm"
	"grove/x86"
)

// TestPCZeroMSRs: on the PC platform the MSRs every AMD64 processor has
// but Grove does not model read zero and take writes without a fault
// (kvm-unit-tests' pmu_init clears the legacy counters); their neighbours
// still raise #GP, and a domain without the platform faults on all of them.
func TestPCZeroMSRs(t *testing.T) {
	for _, tc := range []struct {
		msr   uint32
		pc    bool
		write bool
		gp    bool
	}{
		{0x8b, true, false, false},
		{0xc0010000, true, true, false},
		{0xc0010004, true, false, false},
		{0xc0010007, true, true, false},
		{0xc0010008, true, false, true},
		{0xc0010000, false, false, true},
	} {
		t.Run(fmt.Sprintf("%#x-pc%v-write%v", tc.msr, tc.pc, tc.write), func(t *testing.T) {
			v, _ := fakeVCPU(t, false)
			if tc.pc {
				v.dom.pc = &platform{}
			}
			v.regs.RCX, v.regs.RDX = uint64(tc.msr), 0x1234
			x := exitState{code: svm.ExitMSR, info1: svm.MSRRead, rax: 0x5678}
			if tc.write {
				x.info1 = svm.MSRWrite
			}
			if out := handleExit(v, &x); out != resume {
				t.Fatalf("outcome %v", out)
			}
			switch {
			case tc.gp && x.inject != svm.Exception(x86.VecGP, true, 0):
				t.Errorf("inject %#x, want #GP", x.inject)
			case !tc.gp && (x.inject != 0 || x.rip != 2):
				t.Errorf("inject %#x rip %d, want none and 2", x.inject, x.rip)
			case !tc.gp && !tc.write && (x.rax != 0 || v.regs.RDX != 0):
				t.Errorf("read %#x:%#x, want 0", v.regs.RDX, x.rax)
			}
		})
	}
}
