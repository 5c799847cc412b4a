#include "textflag.h"

// entry64 is where the boot trampoline (cmd/groveimg) lands: long mode, the
// trampoline's identity map of the first 4 GiB, interrupts off, no stack,
// RDI = boot magic (multiboot 0x2BADB002 or PVH 0x336EC578), RSI = boot info
// physical address. It gives Go code what it needs before any Go runs -- a
// stack, FS pointing just past a TLS word holding a g, SSE on, X15 zero -- and
// calls bootMain, which sets up the machine and never returns.
TEXT ·entry64(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$·bootStack+65536(SB), SP
	MOVQ	DI, R12
	MOVQ	SI, R13
	// SSE: CR0.EM=0, CR0.MP=1; CR4.OSFXSR|OSXMMEXCPT.
	MOVQ	CR0, AX
	ANDQ	$~4, AX
	ORQ	$2, AX
	MOVQ	AX, CR0
	MOVQ	CR4, AX
	ORQ	$0x600, AX
	MOVQ	AX, CR4
	// bootTLS[0] = &bootG; FS base = &bootTLS[1].
	MOVQ	$·bootG(SB), AX
	MOVQ	AX, ·bootTLS(SB)
	MOVQ	$·bootTLS+8(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX
	WRMSR
	XORPS	X15, X15
	SUBQ	$16, SP
	MOVQ	R12, 0(SP)
	MOVQ	R13, 8(SP)
	CALL	·bootMain(SB)
hang:
	CLI
	HLT
	JMP	hang

// func bootAddrs() (entry, pagetables, end uintptr)
// bootAddrs keeps entry64 and bootPageTables reachable for the linker (the
// trampoline finds them by symbol) and reports the end of the image.
TEXT ·bootAddrs(SB),NOSPLIT,$0-24
	MOVQ	$·entry64(SB), AX
	MOVQ	AX, entry+0(FP)
	MOVQ	$·bootPageTables(SB), AX
	MOVQ	AX, pagetables+8(FP)
	MOVQ	$runtime·end(SB), AX
	MOVQ	AX, end+16(FP)
	RET

// func rt0Addr() uintptr
TEXT ·rt0Addr(SB),NOSPLIT,$0-8
	MOVQ	$_rt0_amd64_linux(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func pclntabAddr() uintptr
TEXT ·pclntabAddr(SB),NOSPLIT,$0-8
	MOVQ	$runtime·pclntab(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func textRange() (start, end uintptr)
TEXT ·textRange(SB),NOSPLIT,$0-16
	MOVQ	$runtime·text(SB), AX
	MOVQ	AX, start+0(FP)
	MOVQ	$runtime·etext(SB), AX
	MOVQ	AX, end+8(FP)
	RET
