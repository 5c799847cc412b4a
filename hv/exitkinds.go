package hv

import (
	"fmt"
	"strings"

	"grove/hv/svm"
)

// Exits counted by kind, for people (the prompt's "state ID") and for
// benchmarks that ask where a guest's exits go: the kinds a PC guest
// makes most, the rest as "other". The fast path's exits (fastexit.go) are
// counted apart, as "fast": it does not say which kind it answered.

type exitKind uint8

const (
	kindIO exitKind = iota
	kindNPF
	kindMSR
	kindHLT
	kindINTR
	kindVINTR
	kindCPUID
	kindVMMCALL
	kindOther
	nExitKinds
)

var exitKindNames = [nExitKinds]string{"io", "npf", "msr", "hlt", "intr", "vintr", "cpuid", "vmmcall", "other"}

// kindOf is the kind of exit code.
func kindOf(code uint64) exitKind {
	switch code {
	case svm.ExitIOIO:
		return kindIO
	case svm.ExitNPF:
		return kindNPF
	case svm.ExitMSR:
		return kindMSR
	case svm.ExitHLT:
		return kindHLT
	case svm.ExitINTR:
		return kindINTR
	case svm.ExitVINTR:
		return kindVINTR
	case svm.ExitCPUID:
		return kindCPUID
	case svm.ExitVMMCALL:
		return kindVMMCALL
	}
	return kindOther
}

// exitCounts is one vCPU's exits by kind (guarded by the scheduler's mu).
type exitCounts [nExitKinds]uint64

// String lists the counts as "io=N npf=N ... fast=N", with fast the fast
// path's.
func (c *exitCounts) String(fast uint64) string {
	var b strings.Builder
	for k, n := range c {
		fmt.Fprintf(&b, "%s=%d ", exitKindNames[k], n)
	}
	fmt.Fprintf(&b, "fast=%d", fast)
	return b.String()
}
