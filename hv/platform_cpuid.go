package hv

import (
	"grove/hv/abi"
	"grove/hv/pc"
	"grove/x86"
)

// CPUID for a domain with the PC platform (a stock OS such as Linux): the
// generic policy of cpuid.go, then what the platform models and what it
// must hide. Each line says why; docs/linux.md has the same table.
//
//	leaf        register  change
//	1           EBX       initial APIC id = vCPU index, one logical CPU per package
//	1           ECX       + x2APIC, + TSC-deadline (the local APIC model has both)
//	1           ECX       - MONITOR (MWAIT is not intercepted), - PDCM
//	1, 7, 0xd   all       - XSAVE and everything it carries (AVX, AVX2, AVX-512, FMA,
//	                        F16C): Grove switches a guest's FPU with FXSAVE, so YMM/ZMM
//	                        state would leak between domains; XSETBV is not virtualized
//	1           EDX       - MCE, MCA (no machine-check MSRs), - ACPI thermal, - HTT
//	6           EAX       + ARAT: the APIC timer runs in every C-state (Linux then
//	                        needs no PIT once it knows the TSC rate)
//	7.0         ECX       - WAITPKG (UMWAIT is not virtualized), - LA57 (the
//	                        hypervisor's guest page walker has 4 levels)
//	0xb         EDX       x2APIC id = vCPU index
//	0x80000001  ECX       - SVM, - IBS, - perfctr core, - topology extensions
//	0x80000008  ECX       cores per package = the domain's vCPUs
//	0x40000010  EAX, EBX  TSC kHz, local APIC timer kHz (Linux reads this leaf only
//	                        under VMware, so Grove also puts tsc_early_khz on its
//	                        command line: platform.go linuxCmdline)
func pcCPUID(v *VCPU, leaf uint32, a, b, c, d uint32) (uint32, uint32, uint32, uint32) {
	id := uint32(v.id)
	switch leaf {
	case 1:
		b = b&0x0000ffff | id<<24 | 1<<16
		c |= cpuid1ECXX2APIC | cpuid1ECXTSCDeadline
		c &^= cpuid1ECXMonitor | cpuid1ECXPDCM | cpuid1ECXXSAVEFamily
		d &^= cpuid1EDXMCE | cpuid1EDXMCA | cpuid1EDXACPI | cpuid1EDXHTT
	case 6:
		a |= cpuid6EAXARAT
	case 7:
		b &^= cpuid7EBXAVXFamily
		c &^= cpuid7ECXWaitPkg | cpuid7ECXLA57 | cpuid7ECXAVXFamily
		d &^= cpuid7EDXAVXFamily
	case 0xd:
		return 0, 0, 0, 0
	case 0xb:
		d = id
	case x86.CPUIDLeafExt1:
		c &^= x86.CPUIDExt1ECXSVM | cpuidExt1ECXIBS | cpuidExt1ECXPerfCore | cpuidExt1ECXTopoExt | cpuidExt1ECXXOPFMA4
	case abi.CPUIDTiming: // EAX TSC kHz (cpuid.go), EBX APIC timer kHz, as VMware's leaf has them
		b = pc.TimerHz / 1000
	case 0x80000008:
		c = c&^0xff | uint32(len(v.dom.vcpus)-1)
	}
	return a, b, c, d
}

// CPUID bits (AMD APM vol. 3, appendix E; Intel SDM vol. 2, CPUID).
const (
	cpuid1ECXMonitor     = 1 << 3
	cpuid1ECXPDCM        = 1 << 15
	cpuid1ECXX2APIC      = 1 << 21
	cpuid1ECXTSCDeadline = 1 << 24
	cpuid1EDXMCE         = 1 << 7
	cpuid1EDXMCA         = 1 << 14
	cpuid1EDXACPI        = 1 << 22
	cpuid1EDXHTT         = 1 << 28
	cpuid6EAXARAT        = 1 << 2
	// FMA, XSAVE, OSXSAVE, AVX, F16C
	cpuid1ECXXSAVEFamily = 1<<12 | 1<<26 | x86.CPUIDStd1ECXOSXSAVE | x86.CPUIDStd1ECXAVX | 1<<29
	// AVX2 and the AVX-512 subsets
	cpuid7EBXAVXFamily   = 1<<5 | 1<<16 | 1<<17 | 1<<21 | 1<<26 | 1<<27 | 1<<28 | 1<<30 | 1<<31
	cpuid7ECXAVXFamily   = 1<<1 | 1<<6 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12 | 1<<14 // VBMI, VBMI2, GFNI, VAES, VPCLMULQDQ, VNNI, BITALG, VPOPCNTDQ
	cpuid7EDXAVXFamily   = 1<<2 | 1<<3 | 1<<8 | 1<<23                                // 4VNNIW, 4FMAPS, VP2INTERSECT, FP16
	cpuidExt1ECXXOPFMA4  = 1<<11 | 1<<16
	cpuid7ECXWaitPkg     = 1 << 5
	cpuid7ECXLA57        = 1 << 16
	cpuidExt1ECXIBS      = 1 << 10
	cpuidExt1ECXTopoExt  = 1 << 22
	cpuidExt1ECXPerfCore = 1 << 23
)

// pcZeroMSR: MSRs every AMD64 processor has that Linux reads without a
// fault handler (a #GP there prints a stack trace) but that mean nothing
// on Grove's PC: they read as zero and writes are dropped. MTRRCAP = 0
// says no MTRRs (Linux then leaves PAT as set), PATCH_LEVEL = 0 no
// microcode, HWCR and DE_CFG zero the defaults. The four legacy
// performance counters and their event selects (AMD APM vol. 2, 13.2.1;
// kvm-unit-tests' pmu_init clears them at start-up) are counters that
// never count: Grove does not virtualize the PMU.
func pcZeroMSR(msr uint32) bool {
	switch {
	case msr == 0x8b, // PATCH_LEVEL
		msr == 0xfe,       // MTRRCAP
		msr == 0xc0010015, // HWCR
		msr == 0xc0011029: // DE_CFG
		return true
	case msr >= msrPerfEvtSel0 && msr <= msrPerfCtr3:
		return true
	}
	return false
}

// PerfEvtSel0-3 then PerfCtr0-3 (AMD APM vol. 2, 13.2.1).
const (
	msrPerfEvtSel0 = 0xc0010000
	msrPerfCtr3    = 0xc0010007
)
