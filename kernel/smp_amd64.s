#include "textflag.h"

// apEntry64 is where a secondary CPU enters the kernel, on both platforms:
// from the AP trampoline (smp_trampoline.go) on bare metal, or straight from
// the hypervisor's vcpu_op initialise state in a guest (smp_guest.go). Either
// way: long mode on the kernel's page tables, interrupts off, RSP = this
// CPU's boot stack, RDI = its index in cpus, RSI = the FS base whose TLS word
// holds a zeroed g.
// Like entry64 it gives Go what it needs (FS, X15 zero; the trampoline or the
// copied CR0/CR4 have turned SSE on) and calls apMain, which never returns.
TEXT ·apEntry64(SB),NOSPLIT|NOFRAME,$0
	MOVQ	DI, R12
	MOVQ	SI, AX
	MOVQ	SI, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX	// MSR FS base
	WRMSR
	XORPS	X15, X15
	SUBQ	$16, SP
	MOVQ	R12, 0(SP)
	CALL	·apMain(SB)
hang:
	CLI
	HLT
	JMP	hang

// func apEntryAddr() uintptr
TEXT ·apEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·apEntry64(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

