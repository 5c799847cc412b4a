// Package x86 names the architectural registers and bits that more than one
// layer of Grove uses (the kernel, the hypervisor, the image tool, the page
// table walker), once, as the AMD64 Architecture Programmer's Manual names
// them. It holds constants only: no code that touches hardware.
package x86

// Model-specific registers (APM vol. 2, appendix A).
const (
	MSRTSC          = 0x00000010
	MSRAPICBase     = 0x0000001b
	MSRSysenterCS   = 0x00000174
	MSRSysenterESP  = 0x00000175
	MSRSysenterEIP  = 0x00000176
	MSRTSCDeadline  = 0x000006e0
	MSRPAT          = 0x00000277
	MSREFER         = 0xc0000080
	MSRSTAR         = 0xc0000081
	MSRLSTAR        = 0xc0000082
	MSRCSTAR        = 0xc0000083
	MSRSFMASK       = 0xc0000084
	MSRFSBase       = 0xc0000100
	MSRGSBase       = 0xc0000101
	MSRKernelGSBase = 0xc0000102
	MSRVMHSAVEPA    = 0xc0010117
)

// EFER bits (APM vol. 2, 3.1.7).
const (
	EFERSCE   = 1 << 0
	EFERLME   = 1 << 8
	EFERLMA   = 1 << 10
	EFERNXE   = 1 << 11
	EFERSVME  = 1 << 12
	EFERFFXSR = 1 << 14
)

// CR0 bits (APM vol. 2, 3.1.1).
const (
	CR0PE = 1 << 0
	CR0MP = 1 << 1
	CR0EM = 1 << 2
	CR0TS = 1 << 3
	CR0ET = 1 << 4
	CR0NE = 1 << 5
	CR0WP = 1 << 16
	CR0AM = 1 << 18
	CR0NW = 1 << 29
	CR0CD = 1 << 30
	CR0PG = 1 << 31
)

// CR4 bits (APM vol. 2, 3.1.3).
const (
	CR4PSE        = 1 << 4
	CR4PAE        = 1 << 5
	CR4PGE        = 1 << 7
	CR4OSFXSR     = 1 << 9
	CR4OSXMMEXCPT = 1 << 10
	CR4LA57       = 1 << 12
	CR4OSXSAVE    = 1 << 18
)

// RFLAGS bits (APM vol. 2, 3.1.6).
const (
	RFLAGSMBS = 1 << 1 // reserved, must be set
	RFLAGSTF  = 1 << 8
	RFLAGSIF  = 1 << 9
	RFLAGSDF  = 1 << 10
	RFLAGSAC  = 1 << 18
)

// Exception vectors (APM vol. 2, 8.2).
const (
	VecDE  = 0 // divide error
	VecDB  = 1 // debug
	VecNMI = 2
	VecBP  = 3  // breakpoint
	VecUD  = 6  // invalid opcode
	VecDF  = 8  // double fault
	VecGP  = 13 // general protection
	VecPF  = 14 // page fault
	VecMF  = 16 // x87 floating point
	VecMC  = 18 // machine check
	VecXF  = 19 // SIMD floating point
)

// CPUID leaves and feature bits (APM vol. 3, appendix E "Obtaining Processor
// Information Via the CPUID Instruction"). Std1 is leaf 1, Ext1 leaf
// 0x80000001, SVM leaf 0x8000000A (EBX: number of ASIDs).
const (
	CPUIDLeafExtMax = 0x80000000 // EAX: the highest extended leaf
	CPUIDLeafExt1   = 0x80000001
	CPUIDLeafSVM    = 0x8000000a

	CPUIDStd1ECXVMX        = 1 << 5 // Intel's VMX
	CPUIDStd1ECXOSXSAVE    = 1 << 27
	CPUIDStd1ECXAVX        = 1 << 28
	CPUIDStd1ECXRDRAND     = 1 << 30
	CPUIDStd1ECXHypervisor = 1 << 31 // reserved for a hypervisor to set
	CPUIDExt1ECXSVM        = 1 << 2

	CPUIDSVMEDXNP            = 1 << 0 // nested paging
	CPUIDSVMEDXNRIPS         = 1 << 3 // next RIP saved on #VMEXIT
	CPUIDSVMEDXDecodeAssists = 1 << 7
	CPUIDSVMEDXVGIF          = 1 << 16
)
