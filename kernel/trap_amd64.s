#include "textflag.h"
#include "go_asm.h"

// Kernel entry and exit. Every way into the kernel -- SYSCALL, exceptions,
// interrupts -- builds a TrapFrame on this CPU's kernel stack, saves the FPU/SSE
// state into the current task, installs the CPU's kernel g in the TLS slot the
// Go ABI0 wrappers read (FS:-8), and calls trap(). On return the (possibly
// different) task's state is loaded from the frame and IRETQ resumes it.
// Interrupts stay off in between: the kernel is never preempted.

// GS-relative accesses the assembler cannot express; offsets are percpu fields.
#define GS_SAVE_RSP	BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x24; BYTE $0x25; LONG $0	// mov %rsp, %gs:0
#define GS_LOAD_RSP	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x24; BYTE $0x25; LONG $8	// mov %gs:8, %rsp
#define GS_PUSH_SCRATCH	BYTE $0x65; BYTE $0xff; BYTE $0x34; BYTE $0x25; LONG $0		// push %gs:0
#define GS_LOAD_FPU_AX	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $24	// mov %gs:24, %rax
#define GS_LOAD_NEWFS_AX	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $32	// mov %gs:32, %rax
#define GS_ZERO_NEWFS	BYTE $0x65; BYTE $0x48; BYTE $0xc7; BYTE $0x04; BYTE $0x25; LONG $32; LONG $0	// movq $0, %gs:32
#define GS_LOAD_KG_AX	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $40	// mov %gs:40, %rax
#define GS_SAVE_G_AX	BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x04; BYTE $0x25; LONG $48	// mov %rax, %gs:48

// syscallEntry is LSTAR. SYSCALL left the user RIP in CX, RFLAGS in R11, did
// not switch stacks, and FMASK cleared IF.
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	GS_SAVE_RSP
	GS_LOAD_RSP
	PUSHQ	$0x10		// SS
	GS_PUSH_SCRATCH		// RSP
	PUSHQ	R11		// RFLAGS
	PUSHQ	$0x08		// CS
	PUSHQ	CX		// RIP
	PUSHQ	$0		// error code
	PUSHQ	$0x100		// vecSyscall
	JMP	·trapCommon(SB)

// trapCommon finishes the frame and runs trap(frame).
TEXT ·trapCommon(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	BX
	PUSHQ	CX
	PUSHQ	DX
	PUSHQ	SI
	PUSHQ	DI
	PUSHQ	BP
	PUSHQ	R8
	PUSHQ	R9
	PUSHQ	R10
	PUSHQ	R11
	PUSHQ	R12
	PUSHQ	R13
	PUSHQ	R14
	PUSHQ	R15
	MOVQ	SP, DI
	GS_LOAD_FPU_AX
	FXSAVE64	(AX)
	MOVQ	TLS, CX
	MOVQ	0(CX)(TLS*1), AX
	GS_SAVE_G_AX		// the interrupted thread's g slot: trap() puts it back
	PUSHQ	$0		// (keeps the stack layout trap's callers always had)
	GS_LOAD_KG_AX
	MOVQ	AX, 0(CX)(TLS*1)
	SUBQ	$16, SP
	MOVQ	DI, 0(SP)
	CLD
	CALL	·trap(SB)
	ADDQ	$24, SP
	GS_LOAD_NEWFS_AX
	TESTQ	AX, AX
	JZ	fsdone
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX	// msrFSBase
	WRMSR
	GS_ZERO_NEWFS
fsdone:
	GS_LOAD_FPU_AX
	FXRSTOR64	(AX)
	POPQ	R15
	POPQ	R14
	POPQ	R13
	POPQ	R12
	POPQ	R11
	POPQ	R10
	POPQ	R9
	POPQ	R8
	POPQ	BP
	POPQ	DI
	POPQ	SI
	POPQ	DX
	POPQ	CX
	POPQ	BX
	POPQ	AX
	ADDQ	$16, SP		// vector, error code
	IRETQ

// idleLoop is the body of each CPU's idle task: it runs as an ordinary thread
// context, so an interrupt that makes work runnable simply switches away.
TEXT ·idleLoop(SB),NOSPLIT|NOFRAME,$0
again:
	STI
	HLT
	JMP	again

// Exception and interrupt stubs: push a zero error code where the CPU does not,
// then the vector.
#define STUB(name, vec) TEXT name(SB),NOSPLIT|NOFRAME,$0; PUSHQ $0; PUSHQ $vec; JMP ·trapCommon(SB)
#define STUBERR(name, vec) TEXT name(SB),NOSPLIT|NOFRAME,$0; PUSHQ $vec; JMP ·trapCommon(SB)

STUB(·vec0, 0)
STUB(·vec1, 1)
STUB(·vec2, 2)
STUB(·vec3, 3)
STUB(·vec4, 4)
STUB(·vec5, 5)
STUB(·vec6, 6)
STUB(·vec7, 7)
STUBERR(·vec8, 8)
STUB(·vec9, 9)
STUBERR(·vec10, 10)
STUBERR(·vec11, 11)
STUBERR(·vec12, 12)
STUBERR(·vec13, 13)
STUBERR(·vec14, 14)
STUB(·vec15, 15)
STUB(·vec16, 16)
STUBERR(·vec17, 17)
STUB(·vec18, 18)
STUB(·vec19, 19)
STUB(·vec20, 20)
STUBERR(·vec21, 21)
STUB(·vec22, 22)
STUB(·vec23, 23)
STUB(·vec24, 24)
STUB(·vec25, 25)
STUB(·vec26, 26)
STUB(·vec27, 27)
STUB(·vec28, 28)
STUBERR(·vec29, 29)
STUBERR(·vec30, 30)
STUB(·vec31, 31)
STUB(·vecTimer, 0x40)
STUB(·vecSpurious, 0xff)
STUB(·vecOther, 0xfe)
STUB(·vecResched, 0xf0)
STUB(·vecTLB, 0xf1)
STUB(·vecWait0, 0x50)
STUB(·vecWait1, 0x51)
STUB(·vecWait2, 0x52)
STUB(·vecWait3, 0x53)
STUB(·vecWait4, 0x54)
STUB(·vecWait5, 0x55)
STUB(·vecWait6, 0x56)
STUB(·vecWait7, 0x57)

// vectorStubs lists the stub addresses for gdt.go: 0-31, timer, spurious, other,
// the SYSCALL entry, the idle loop, the two IPIs, then the eight wait vectors
// (WaitVectorBase, irqwait.go).
DATA ·vectorStubs+0(SB)/8, $·vec0(SB)
DATA ·vectorStubs+8(SB)/8, $·vec1(SB)
DATA ·vectorStubs+16(SB)/8, $·vec2(SB)
DATA ·vectorStubs+24(SB)/8, $·vec3(SB)
DATA ·vectorStubs+32(SB)/8, $·vec4(SB)
DATA ·vectorStubs+40(SB)/8, $·vec5(SB)
DATA ·vectorStubs+48(SB)/8, $·vec6(SB)
DATA ·vectorStubs+56(SB)/8, $·vec7(SB)
DATA ·vectorStubs+64(SB)/8, $·vec8(SB)
DATA ·vectorStubs+72(SB)/8, $·vec9(SB)
DATA ·vectorStubs+80(SB)/8, $·vec10(SB)
DATA ·vectorStubs+88(SB)/8, $·vec11(SB)
DATA ·vectorStubs+96(SB)/8, $·vec12(SB)
DATA ·vectorStubs+104(SB)/8, $·vec13(SB)
DATA ·vectorStubs+112(SB)/8, $·vec14(SB)
DATA ·vectorStubs+120(SB)/8, $·vec15(SB)
DATA ·vectorStubs+128(SB)/8, $·vec16(SB)
DATA ·vectorStubs+136(SB)/8, $·vec17(SB)
DATA ·vectorStubs+144(SB)/8, $·vec18(SB)
DATA ·vectorStubs+152(SB)/8, $·vec19(SB)
DATA ·vectorStubs+160(SB)/8, $·vec20(SB)
DATA ·vectorStubs+168(SB)/8, $·vec21(SB)
DATA ·vectorStubs+176(SB)/8, $·vec22(SB)
DATA ·vectorStubs+184(SB)/8, $·vec23(SB)
DATA ·vectorStubs+192(SB)/8, $·vec24(SB)
DATA ·vectorStubs+200(SB)/8, $·vec25(SB)
DATA ·vectorStubs+208(SB)/8, $·vec26(SB)
DATA ·vectorStubs+216(SB)/8, $·vec27(SB)
DATA ·vectorStubs+224(SB)/8, $·vec28(SB)
DATA ·vectorStubs+232(SB)/8, $·vec29(SB)
DATA ·vectorStubs+240(SB)/8, $·vec30(SB)
DATA ·vectorStubs+248(SB)/8, $·vec31(SB)
DATA ·vectorStubs+256(SB)/8, $·vecTimer(SB)
DATA ·vectorStubs+264(SB)/8, $·vecSpurious(SB)
DATA ·vectorStubs+272(SB)/8, $·vecOther(SB)
DATA ·vectorStubs+280(SB)/8, $·syscallEntry(SB)
DATA ·vectorStubs+288(SB)/8, $·idleLoop(SB)
DATA ·vectorStubs+296(SB)/8, $·vecResched(SB)
DATA ·vectorStubs+304(SB)/8, $·vecTLB(SB)
DATA ·vectorStubs+312(SB)/8, $·vecWait0(SB)
DATA ·vectorStubs+320(SB)/8, $·vecWait1(SB)
DATA ·vectorStubs+328(SB)/8, $·vecWait2(SB)
DATA ·vectorStubs+336(SB)/8, $·vecWait3(SB)
DATA ·vectorStubs+344(SB)/8, $·vecWait4(SB)
DATA ·vectorStubs+352(SB)/8, $·vecWait5(SB)
DATA ·vectorStubs+360(SB)/8, $·vecWait6(SB)
DATA ·vectorStubs+368(SB)/8, $·vecWait7(SB)
GLOBL ·vectorStubs(SB), RODATA, $376

// func vectorStubsAddr() uintptr
TEXT ·vectorStubsAddr(SB),NOSPLIT,$0-8
	MOVQ	$·vectorStubs(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func enterUser(sp uintptr, pc uintptr)
// enterUser leaves boot context for the first thread: it switches to the
// thread's stack, enables interrupts and jumps to pc. It never returns.
TEXT ·enterUser(SB),NOSPLIT|NOFRAME,$0-16
	MOVQ	sp+0(FP), AX
	MOVQ	pc+8(FP), BX
	MOVQ	AX, SP
	XORQ	AX, AX
	XORQ	CX, CX
	XORQ	DX, DX
	XORQ	SI, SI
	XORQ	DI, DI
	XORQ	BP, BP
	STI
	JMP	BX
