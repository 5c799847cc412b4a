package hv

import (
	"testing"

	"grove/hv/svm"
)

func TestExitKinds(t *testing.T) {
	for code, want := range map[uint64]exitKind{
		svm.ExitIOIO: kindIO, svm.ExitNPF: kindNPF, svm.ExitMSR: kindMSR, svm.ExitHLT: kindHLT,
		svm.ExitINTR: kindINTR, svm.ExitVINTR: kindVINTR, svm.ExitCPUID: kindCPUID,
		svm.ExitVMMCALL: kindVMMCALL, svm.ExitShutdown: kindOther, 0xffff: kindOther,
	} {
		if got := kindOf(code); got != want {
			t.Errorf("kindOf(%#x) = %s, want %s", code, exitKindNames[got], exitKindNames[want])
		}
	}
	var c exitCounts
	c[kindIO], c[kindHLT] = 3, 1
	if got, want := c.String(7), "io=3 npf=0 msr=0 hlt=1 intr=0 vintr=0 cpuid=0 vmmcall=0 other=0 fast=7"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
