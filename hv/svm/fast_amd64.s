#include "textflag.h"
#include "go_asm.h"

// func fastExit(vmcb uintptr, regs *Regs, f *Fast) bool
//
// One exit of the fast path (fast.go says which and why). SI = VMCB,
// DI = regs, BX = f. Only integer registers: the guest's FPU state is
// loaded while the loop runs.
TEXT ·fastExit(SB),NOSPLIT,$0-25
	MOVQ	vmcb+0(FP), SI
	MOVQ	regs+8(FP), DI
	MOVQ	f+16(FP), BX
	MOVB	$0, ret+24(FP)
	CMPL	Fast_on(BX), $0
	JEQ	out
	CMPL	Fast_stop(BX), $0
	JNE	out
	MOVQ	const_offExitIntInfo(SI), AX
	BTQ	$const_eventVBit, AX	// an event cut short: hv delivers it again
	JCS	out
	// The interrupt offer prepared at entry must still be the one hv
	// would prepare now.
	MOVQ	const_offRFLAGS(SI), CX
	ANDQ	$const_rflagsIF, CX
	CMPL	Fast_offered(BX), $0
	JEQ	notoffered
	TESTQ	CX, CX
	JNE	pending
	CMPL	Fast_window(BX), $0
	JEQ	out			// interrupts off: hv withdraws the offer (docs/qemu-tcg.md)
pending:				// (a window offer stands while they stay off)
	MOVQ	const_offVIntr(SI), AX
	TESTQ	$const_vIRQ, AX
	JEQ	out			// taken: hv accepts it and offers the next
	JMP	dispatch
notoffered:
	CMPL	Fast_held(BX), $0
	JEQ	dispatch
	TESTQ	CX, CX
	JNE	out			// interrupts on: hv offers what waits
dispatch:
	MOVQ	const_offRFLAGS(SI), AX
	TESTQ	$const_rflagsTF, AX
	JNE	out			// single-stepping: hv injects the #DB after the instruction
	MOVQ	const_offExitCode(SI), AX
	CMPQ	AX, $const_ExitCPUID
	JEQ	cpuid
	CMPQ	AX, $const_ExitVMMCALL
	JEQ	vmmcall
	CMPQ	AX, $const_ExitIOIO
	JEQ	ioio
	CMPQ	AX, $const_ExitHLT
	JEQ	hlt
out:
	RET
taken:
	ANDQ	$~const_intShadow, const_offIntShadow(SI)	// the instruction is done (ClearInterruptShadow)
	INCQ	Fast_exits(BX)
	MOVB	$1, ret+24(FP)
	RET

cpuid:
	// The leaf's slot: 0-31, 0x40000000-31 or 0x80000000-47.
	MOVL	const_offRAX(SI), AX
	MOVL	AX, CX
	CMPL	CX, $const_cpuidBasicN
	JCS	slot
	SUBL	$const_cpuidHyper, CX
	CMPL	CX, $const_cpuidHyperN
	JCS	hyper
	MOVL	AX, CX
	SUBL	$const_cpuidExt, CX
	CMPL	CX, $const_cpuidExtN
	JCC	out
	ADDL	$const_slotExt, CX
	JMP	slot
hyper:
	ADDL	$const_slotHyper, CX
slot:
	MOVBLZX	Fast_slot(BX)(CX*1), CX
	TESTL	CX, CX
	JEQ	out
	DECL	CX
	IMULQ	$CPUIDEntry__size, CX
	LEAQ	Fast_cpuid(BX)(CX*1), DX
	MOVL	Fast_ncpuid(BX), R8
	IMULQ	$CPUIDEntry__size, R8
	LEAQ	Fast_cpuid(BX)(R8*1), R8	// the table's end
	MOVL	Regs_RCX(DI), R9		// subleaf
row:
	CMPQ	DX, R8
	JCC	out
	CMPL	CPUIDEntry_Leaf(DX), AX
	JNE	out
	CMPL	CPUIDEntry_AnySub(DX), $0
	JNE	hit
	CMPL	CPUIDEntry_Sub(DX), R9
	JEQ	hit
	ADDQ	$CPUIDEntry__size, DX
	JMP	row
hit:
	MOVL	CPUIDEntry_EAX(DX), AX		// 32-bit loads zero-extend, as
	MOVQ	AX, const_offRAX(SI)		// hv's handler's uint64(a) does
	MOVL	CPUIDEntry_EBX(DX), AX
	MOVQ	AX, Regs_RBX(DI)
	MOVL	CPUIDEntry_ECX(DX), AX
	MOVQ	AX, Regs_RCX(DI)
	MOVL	CPUIDEntry_EDX(DX), AX
	MOVQ	AX, Regs_RDX(DI)
	ADDQ	$2, const_offRIP(SI)		// cpuid is 0f a2
	JMP	taken

vmmcall:
	MOVQ	const_offRAX(SI), AX
	CMPQ	AX, $64
	JCC	null
	MOVQ	AX, CX
	MOVQ	Fast_goCalls(BX), DX
	SHRQ	CX, DX
	TESTQ	$1, DX
	JNE	out			// hv's table has it
null:
	MOVQ	Fast_nullRet(BX), AX
	MOVQ	AX, const_offRAX(SI)
	ADDQ	$3, const_offRIP(SI)		// vmmcall is 0f 01 d9
	JMP	taken

ioio:
	MOVQ	const_offExitInfo1(SI), R8
	TESTQ	$(const_IOIOStr|const_IOIORep), R8
	JNE	out			// string I/O
	MOVQ	R8, AX
	SHRQ	$const_IOIOPortShift, AX
	ANDQ	$0xffff, AX
	TESTQ	$const_IOIOType, R8
	JNE	in
	CMPQ	AX, Fast_conPort(BX)
	JEQ	conbyte
	CMPQ	AX, Fast_uartTHR(BX)
	JNE	out
	TESTQ	$const_IOIOSz8, R8
	JEQ	out			// a wider OUT writes the next registers too
	MOVQ	Fast_uart(BX), DX
	TESTQ	DX, DX
	JEQ	out			// no UART
	MOVL	(DX), DX		// the UART's state word, as the model left it
	TESTL	$const_UARTTHR, DX
	JEQ	out
conbyte:
	MOVL	Fast_conLen(BX), CX
	CMPL	CX, $const_ConsoleMax
	JCC	out			// full: hv drains it first
	MOVQ	const_offRAX(SI), AX
	CMPB	AL, $const_consoleNL
	JEQ	out			// a line ends: hv prints it now
	MOVB	AL, Fast_con(BX)(CX*1)
	INCL	Fast_conLen(BX)
	MOVQ	const_offExitInfo2(SI), AX	// the next RIP
	MOVQ	AX, const_offRIP(SI)
	JMP	taken
in:
	CMPQ	AX, Fast_uartLSR(BX)
	JNE	out
	TESTQ	$const_IOIOSz8, R8
	JEQ	out
	MOVQ	Fast_uart(BX), DX
	TESTQ	DX, DX
	JEQ	out
	MOVL	(DX), DX
	TESTL	$const_UARTLSR, DX
	JEQ	out
	MOVB	DL, const_offRAX(SI)	// AL only: an 8-bit IN keeps the rest of RAX
	MOVQ	const_offExitInfo2(SI), AX
	MOVQ	AX, const_offRIP(SI)
	JMP	taken

hlt:
	CMPL	Fast_hlt(BX), $0
	JEQ	out
	CMPL	Fast_offered(BX), $0	// still pending, interrupts on: checked above
	JEQ	out
	ADDQ	$1, const_offRIP(SI)		// hlt is f4
	JMP	taken
