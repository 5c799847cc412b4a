#include "textflag.h"
#include "go_asm.h"
#include "svm_amd64.h"

// func vmrunFloor(vmcb, hostVMCB uintptr, regs *Regs, fpu uintptr)
//
// Frame: 0 BP; 8 vmcb; 16 hostVMCB; 24 regs. Between two entries the
// guest's registers stay in the CPU; after #VMEXIT, AX holds the VMCB's
// address again (VMRUN's operand, restored from the host save area).
TEXT ·vmrunFloor(SB),NOSPLIT,$32-32
	MOVQ	BP, 0(SP)
	MOVQ	vmcb+0(FP), AX
	MOVQ	AX, 8(SP)
	MOVQ	hostVMCB+8(FP), AX
	MOVQ	AX, 16(SP)
	MOVQ	regs+16(FP), AX
	MOVQ	AX, 24(SP)
	MOVQ	fpu+24(FP), AX
	FXRSTOR64	(AX)
	MOVQ	16(SP), AX
	VMSAVE_AX
	MOVQ	8(SP), AX
	VMLOAD_AX
	MOVQ	24(SP), DI
	LOAD_GUEST
	MOVQ	8(SP), AX
run:
	CLGI
	STI
	VMRUN_AX
	CLI
	CMPQ	const_offExitCode(AX), $const_ExitCPUID
	JEQ	cpuid
	CMPQ	const_offExitCode(AX), $const_ExitVMMCALL
	JNE	leave
	CMPQ	const_offRAX(AX), $64
	JCS	leave
	MOVQ	$const_floorNullRet, const_offRAX(AX)
	ADDQ	$3, const_offRIP(AX)		// vmmcall
	JMP	again
cpuid:
	MOVL	const_offRAX(AX), AX		// leaf; ECX holds the subleaf
	CPUID
	PUSHQ	AX
	MOVQ	16(SP), AX			// vmcb (8(SP) before the push)
	POPQ	const_offRAX(AX)
	ADDQ	$2, const_offRIP(AX)		// cpuid
again:
	MOVB	$0, const_offTLBControl(AX)
	JMP	run
leave:
	PUSHQ	DI
	MOVQ	32(SP), DI			// regs (24(SP) before the push)
	SAVE_GUEST
	POPQ	AX
	MOVQ	AX, Regs_RDI(DI)
	MOVQ	8(SP), AX
	VMSAVE_AX
	MOVQ	16(SP), AX
	VMLOAD_AX
	STGI
	MOVQ	fpu+24(FP), AX
	FXSAVE64	(AX)
	MOVQ	0(SP), BP
	RET
