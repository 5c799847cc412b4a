package hv

import (
	"testing"

	"grove/hv/abi"
	"grove/hv/svm"
	"grove/x86"
)

// TestSingleStepTrap: a guest single-stepping over an instruction Grove
// carries out gets the #DB trap after it, with DR6.BS set and B0-B3
// clear, as a processor gives it; an instruction that faults, a guest not
// stepping and Grove's own step of an NMI handler's IRET get none.
func TestSingleStepTrap(t *testing.T) {
	const (
		rflags  = x86.RFLAGSMBS | x86.RFLAGSTF
		dr6Idle = 0xffff0ff0 // DR6 with no condition recorded
	)
	db := svm.Exception(x86.VecDB, false, 0)
	for _, tc := range []struct {
		name       string
		x          exitState
		rflags     uint64
		nmiStep    bool
		wantRIP    uint64
		wantInject svm.Event
		wantDR6    uint64
	}{
		{"cpuid", exitState{code: svm.ExitCPUID, rax: abi.CPUIDSignature}, rflags, false, 0x1002, db, dr6Idle | dr6BS},
		{"in-port", exitState{code: svm.ExitIOIO, info1: svm.IOIO{In: true, Port: 0x3fd, Size: 1}.Encode(), info2: 0x1001},
			rflags, false, 0x1001, db, dr6Idle | dr6BS},
		{"hlt", exitState{code: svm.ExitHLT}, rflags, false, 0x1001, db, dr6Idle | dr6BS},
		{"not-stepping", exitState{code: svm.ExitCPUID, rax: abi.CPUIDSignature}, x86.RFLAGSMBS, false, 0x1002, 0, dr6Idle | 0x3},
		{"rdmsr-faults", exitState{code: svm.ExitMSR}, rflags, false, 0x1000, svm.Exception(x86.VecGP, true, 0), dr6Idle | 0x3},
		{"grove-steps-iret", exitState{code: svm.ExitCPUID, rax: abi.CPUIDSignature}, rflags, true, 0x1002, 0, dr6Idle | 0x3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := pcTestVCPU(t)
			v.regs.RCX = 0xc0de0000 // an MSR nobody models
			v.vmcb.SetRIP(0x1000)
			v.vmcb.Set(testOffRFLAGS, tc.rflags)
			v.vmcb.SetDR6(dr6Idle | 0x3) // B0 and B1 left from earlier breakpoints
			v.nmi.step = tc.nmiStep
			x := tc.x
			x.rip, x.efer = 0x1000, v.vmcb.EFER()
			handleExit(v, &x)
			v.writeExit(&x)
			if v.vmcb.RIP() != tc.wantRIP || v.vmcb.EventInj() != tc.wantInject || v.vmcb.DR6() != tc.wantDR6 {
				t.Fatalf("rip %#x inject %#x dr6 %#x, want rip %#x inject %#x dr6 %#x",
					v.vmcb.RIP(), v.vmcb.EventInj(), v.vmcb.DR6(), tc.wantRIP, tc.wantInject, tc.wantDR6)
			}
		})
	}
}
