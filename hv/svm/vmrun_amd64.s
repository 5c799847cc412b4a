#include "textflag.h"
#include "go_asm.h"
#include "svm_amd64.h"

#define MSR_TSC_AUX	$0xc0000103

// func vmrun(vmcb, hostVMCB uintptr, regs *Regs, fpu uintptr, fast *Fast)
//
// Frame: 0-23 fastExit's arguments, 24 its result; 32 BP; 40 vmcb;
// 48 hostVMCB; 56 regs; 64 fast; 72 the host's TSC_AUX. The host's
// segment/MSR state, TSC_AUX and the guest's FPU image are switched once
// per call, not per exit: the fast path (fast_amd64.s) touches none of
// them.
TEXT ·vmrun(SB),NOSPLIT,$80-40
	MOVQ	BP, 32(SP)
	MOVQ	vmcb+0(FP), AX
	MOVQ	AX, 40(SP)
	MOVQ	hostVMCB+8(FP), AX
	MOVQ	AX, 48(SP)
	MOVQ	regs+16(FP), AX
	MOVQ	AX, 56(SP)
	MOVQ	fast+32(FP), AX
	MOVQ	AX, 64(SP)
	MOVQ	fpu+24(FP), AX
	FXRSTOR64	(AX)
	MOVL	MSR_TSC_AUX, CX		// the host's TSC_AUX to 72(SP), the guest's in
	RDMSR
	MOVQ	AX, 72(SP)
	MOVQ	56(SP), DI
	MOVQ	Regs_TSCAux(DI), BX
	CMPQ	AX, BX
	JEQ	auxin
	MOVQ	BX, AX
	XORL	DX, DX
	WRMSR
auxin:
	MOVQ	48(SP), AX
	VMSAVE_AX			// host FS/GS/TR/LDTR/STAR/LSTAR/...
	MOVQ	40(SP), AX
	VMLOAD_AX			// guest's
enter:
	MOVQ	56(SP), DI
	LOAD_GUEST
	MOVQ	40(SP), AX
	CLGI
	STI
	VMRUN_AX
	CLI				// a host interrupt stays pending until the thread resumes
	PUSHQ	DI
	MOVQ	64(SP), DI		// regs (56(SP) before the push)
	SAVE_GUEST
	POPQ	AX
	MOVQ	AX, Regs_RDI(DI)
	MOVQ	64(SP), AX		// fast
	TESTQ	AX, AX
	JEQ	leave
	MOVQ	40(SP), CX
	MOVQ	CX, 0(SP)
	MOVQ	DI, 8(SP)
	MOVQ	AX, 16(SP)
	CALL	·fastExit(SB)
	CMPB	24(SP), $0
	JEQ	leave
	MOVQ	40(SP), AX
	MOVB	$0, const_offTLBControl(AX)	// same vCPU, same CPU: no flush
	JMP	enter
leave:
	MOVQ	40(SP), AX
	VMSAVE_AX			// guest's
	MOVQ	48(SP), AX
	VMLOAD_AX			// host's back (FS base: Go's TLS; GS base: percpu)
	MOVQ	56(SP), DI
	MOVQ	72(SP), AX
	CMPQ	AX, Regs_TSCAux(DI)
	JEQ	auxout
	MOVL	MSR_TSC_AUX, CX		// the host's TSC_AUX back
	XORL	DX, DX
	WRMSR
auxout:
	STGI
	MOVQ	fpu+24(FP), AX
	FXSAVE64	(AX)
	MOVQ	32(SP), BP
	RET
