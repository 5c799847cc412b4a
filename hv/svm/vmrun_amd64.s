#include "textflag.h"
#include "go_asm.h"

// The assembler lacks the SVM instructions (APM vol. 3):
#define VMRUN_AX	BYTE $0x0f; BYTE $0x01; BYTE $0xd8	// vmrun  (rax = VMCB PA)
#define VMLOAD_AX	BYTE $0x0f; BYTE $0x01; BYTE $0xda	// vmload (rax)
#define VMSAVE_AX	BYTE $0x0f; BYTE $0x01; BYTE $0xdb	// vmsave (rax)
#define STGI		BYTE $0x0f; BYTE $0x01; BYTE $0xdc	// stgi
#define CLGI		BYTE $0x0f; BYTE $0x01; BYTE $0xdd	// clgi

#define MSR_TSC_AUX	$0xc0000103

// func vmrun(vmcb, hostVMCB uintptr, regs *Regs, fpu uintptr)
TEXT ·vmrun(SB),NOSPLIT,$40-32
	MOVQ	BP, 0(SP)
	MOVQ	vmcb+0(FP), AX
	MOVQ	AX, 8(SP)
	MOVQ	hostVMCB+8(FP), AX
	MOVQ	AX, 16(SP)
	MOVQ	regs+16(FP), AX
	MOVQ	AX, 24(SP)
	MOVQ	fpu+24(FP), AX
	FXRSTOR64	(AX)
	MOVL	MSR_TSC_AUX, CX		// the host's TSC_AUX to 32(SP), the guest's in
	RDMSR
	MOVQ	AX, 32(SP)
	MOVQ	24(SP), DI
	MOVQ	Regs_TSCAux(DI), BX
	CMPQ	AX, BX
	JEQ	auxin
	MOVQ	BX, AX
	XORL	DX, DX
	WRMSR
auxin:
	MOVQ	16(SP), AX
	VMSAVE_AX			// host FS/GS/TR/LDTR/STAR/LSTAR/...
	MOVQ	8(SP), AX
	VMLOAD_AX			// guest's
	MOVQ	24(SP), DI
	MOVQ	Regs_RBX(DI), BX
	MOVQ	Regs_RCX(DI), CX
	MOVQ	Regs_RDX(DI), DX
	MOVQ	Regs_RSI(DI), SI
	MOVQ	Regs_RBP(DI), BP
	MOVQ	Regs_R8(DI), R8
	MOVQ	Regs_R9(DI), R9
	MOVQ	Regs_R10(DI), R10
	MOVQ	Regs_R11(DI), R11
	MOVQ	Regs_R12(DI), R12
	MOVQ	Regs_R13(DI), R13
	MOVQ	Regs_R14(DI), R14
	MOVQ	Regs_R15(DI), R15
	MOVQ	Regs_RDI(DI), DI
	CLGI
	STI
	VMRUN_AX
	CLI				// a host interrupt stays pending until the thread resumes
	PUSHQ	DI
	MOVQ	32(SP), DI		// regs (24(SP) before the push)
	MOVQ	BX, Regs_RBX(DI)
	MOVQ	CX, Regs_RCX(DI)
	MOVQ	DX, Regs_RDX(DI)
	MOVQ	SI, Regs_RSI(DI)
	MOVQ	BP, Regs_RBP(DI)
	MOVQ	R8, Regs_R8(DI)
	MOVQ	R9, Regs_R9(DI)
	MOVQ	R10, Regs_R10(DI)
	MOVQ	R11, Regs_R11(DI)
	MOVQ	R12, Regs_R12(DI)
	MOVQ	R13, Regs_R13(DI)
	MOVQ	R14, Regs_R14(DI)
	MOVQ	R15, Regs_R15(DI)
	POPQ	AX
	MOVQ	AX, Regs_RDI(DI)
	MOVQ	8(SP), AX
	VMSAVE_AX			// guest's
	MOVQ	16(SP), AX
	VMLOAD_AX			// host's back (FS base: Go's TLS; GS base: percpu)
	MOVQ	24(SP), DI
	MOVQ	32(SP), AX
	CMPQ	AX, Regs_TSCAux(DI)
	JEQ	auxout
	MOVL	MSR_TSC_AUX, CX		// the host's TSC_AUX back
	XORL	DX, DX
	WRMSR
auxout:
	STGI
	MOVQ	fpu+24(FP), AX
	FXSAVE64	(AX)
	MOVQ	0(SP), BP
	RET
