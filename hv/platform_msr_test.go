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

// msr runs one RDMSR or WRMSR exit on v and returns the value read and the
// event injected.
func msr(v *VCPU, n uint32, write bool, val uint64) (uint64, svm.Event) {
	v.regs.RCX, v.regs.RDX = uint64(n), val>>32
	x := exitState{code: svm.ExitMSR, info1: svm.MSRRead, rax: val & 0xffffffff}
	if write {
		x.info1 = svm.MSRWrite
	}
	handleExit(v, &x)
	return v.regs.RDX<<32 | x.rax&0xffffffff, x.inject
}

// TestPCTSCMSRs: a TSC write moves that vCPU's clock (its reads and the TSC
// deadline follow), TSC_AUX keeps what the guest wrote in the registers
// vmrun loads it from, and its reserved high half faults.
func TestPCTSCMSRs(t *testing.T) {
	v, _ := fakeVCPU(t, false)
	v.dom.pc = &platform{}
	if _, ev := msr(v, x86.MSRTSC, true, 100_000_000_000); ev != 0 {
		t.Fatalf("wrmsr TSC injected %#x", ev)
	}
	got, _ := msr(v, x86.MSRTSC, false, 0)
	if got < 100_000_000_000 || got > 100_000_000_000+1<<40 {
		t.Errorf("TSC after writing 1e11 reads %d", got)
	}
	if d := v.tscDeadlineToHost(got + 1000); v.tscDeadlineToGuest(d) != got+1000 || d == got+1000 && v.tscOffset != 0 {
		t.Errorf("deadline %d -> host %d", got+1000, d)
	}
	if v.tscDeadlineToHost(0) != 0 || v.tscDeadlineToGuest(0) != 0 {
		t.Error("a zero deadline (disarmed) was converted")
	}
	for _, aux := range []uint64{0, 10, 0x100, 0xffffffff} {
		if _, ev := msr(v, msrTSCAux, true, aux); ev != 0 || v.regs.TSCAux != aux {
			t.Errorf("wrmsr TSC_AUX %#x: inject %#x, regs hold %#x", aux, ev, v.regs.TSCAux)
		}
		if got, _ := msr(v, msrTSCAux, false, 0); got != aux {
			t.Errorf("TSC_AUX reads %#x, want %#x", got, aux)
		}
	}
	if _, ev := msr(v, msrTSCAux, true, 1<<32); ev != svm.Exception(x86.VecGP, true, 0) || v.regs.TSCAux != 0xffffffff {
		t.Errorf("TSC_AUX bit 32: inject %#x, regs %#x", ev, v.regs.TSCAux)
	}
}

// TestPCPKRS: with PKS on the host, IA32_PKRS is the vCPU's own (bits
// 63:32 reserved); without it the MSR is absent, as on AMD hardware.
func TestPCPKRS(t *testing.T) {
	gp := svm.Exception(x86.VecGP, true, 0)
	for _, host := range []bool{true, false} {
		t.Run(fmt.Sprintf("host-pks-%v", host), func(t *testing.T) {
			saved := hostHasPKS
			hostHasPKS = func() bool { return host }
			defer func() { hostHasPKS = saved }()
			v, _ := fakeVCPU(t, false)
			v.dom.pc = &platform{}
			_, ev := msr(v, msrPKRS, true, 0x1234_5678)
			got, _ := msr(v, msrPKRS, false, 0)
			switch {
			case host && (ev != 0 || got != 0x1234_5678 || v.pkrs != 0x1234_5678):
				t.Errorf("write inject %#x, read %#x, vCPU holds %#x", ev, got, v.pkrs)
			case !host && ev != gp:
				t.Errorf("write without host PKS: inject %#x, want #GP", ev)
			}
			if _, ev := msr(v, msrPKRS, true, 1<<32); host && ev != gp {
				t.Errorf("reserved bit 32: inject %#x, want #GP", ev)
			}
		})
	}
}
