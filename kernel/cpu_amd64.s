#include "textflag.h"

// func outb(port uint16, val uint8)
TEXT ·outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	val+2(FP), AX
	OUTB
	RET

// func inb(port uint16) uint8
TEXT ·inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	XORQ	AX, AX
	INB
	MOVB	AX, ret+8(FP)
	RET

// func outl(port uint16, val uint32)
TEXT ·outl(SB),NOSPLIT,$0-8
	MOVW	port+0(FP), DX
	MOVL	val+4(FP), AX
	OUTL
	RET

// func inl(port uint16) uint32
TEXT ·inl(SB),NOSPLIT,$0-12
	MOVW	port+0(FP), DX
	INL
	MOVL	AX, ret+8(FP)
	RET

// func rdmsr(msr uint32) uint64
TEXT ·rdmsr(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+8(FP)
	RET

// func wrmsr(msr uint32, val uint64)
TEXT ·wrmsr(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	MOVQ	val+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

// func rdtsc() uint64
TEXT ·rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func readCR2() uint64
TEXT ·readCR2(SB),NOSPLIT,$0-8
	MOVQ	CR2, AX
	MOVQ	AX, ret+0(FP)
	RET

// func readCR3() uint64
TEXT ·readCR3(SB),NOSPLIT,$0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET

// func writeCR3(val uint64)
TEXT ·writeCR3(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR3
	RET

// func readCR0() uint64
TEXT ·readCR0(SB),NOSPLIT,$0-8
	MOVQ	CR0, AX
	MOVQ	AX, ret+0(FP)
	RET

// func writeCR0(val uint64)
TEXT ·writeCR0(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR0
	RET

// func readCR4() uint64
TEXT ·readCR4(SB),NOSPLIT,$0-8
	MOVQ	CR4, AX
	MOVQ	AX, ret+0(FP)
	RET

// func writeCR4(val uint64)
TEXT ·writeCR4(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR4
	RET

// func invlpg(addr uintptr)
TEXT ·invlpg(SB),NOSPLIT,$0-8
	MOVQ	addr+0(FP), AX
	INVLPG	(AX)
	RET

// func lgdt(desc uintptr)
TEXT ·lgdt(SB),NOSPLIT,$0-8
	MOVQ	desc+0(FP), AX
	LGDT	(AX)
	RET

// func lidt(desc uintptr)
TEXT ·lidt(SB),NOSPLIT,$0-8
	MOVQ	desc+0(FP), AX
	LIDT	(AX)
	RET

// func ltr(sel uint16)
TEXT ·ltr(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	LTR	AX
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, eax+8(FP)
	MOVL	BX, ebx+12(FP)
	MOVL	CX, ecx+16(FP)
	MOVL	DX, edx+20(FP)
	RET

// func rdrand() (val uint64, ok bool)
TEXT ·rdrand(SB),NOSPLIT,$0-9
	RDRANDQ	AX
	SETCS	BL
	MOVQ	AX, val+0(FP)
	MOVB	BL, ok+8(FP)
	RET

// func thisCPUAddr() uintptr
TEXT ·thisCPUAddr(SB),NOSPLIT,$0-8
	// mov %gs:16, %rax  (percpu.self; the assembler has no GS-relative form)
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $16
	MOVQ	AX, ret+0(FP)
	RET

// func causeTripleFault()
TEXT ·causeTripleFault(SB),NOSPLIT,$0-0
	INT	$3
	RET

// func fxsave(addr uintptr)
TEXT ·fxsave(SB),NOSPLIT,$0-8
	MOVQ	addr+0(FP), AX
	FXSAVE64	(AX)
	RET

// func fninit()
TEXT ·fninit(SB),NOSPLIT,$0-0
	FINIT
	RET

// func divideByZero(a, b uint64) uint64
TEXT ·divideByZero(SB),NOSPLIT,$0-24
	MOVQ	a+0(FP), AX
	MOVQ	b+8(FP), CX
	XORQ	DX, DX
	DIVQ	CX
	MOVQ	AX, ret+16(FP)
	RET

// func pause()
TEXT ·pause(SB),NOSPLIT,$0-0
	PAUSE
	RET

// func rdtscp() (tsc uint64, aux uint32)
TEXT ·rdtscp(SB),NOSPLIT,$0-12
	BYTE	$0x0f; BYTE $0x01; BYTE $0xf9	// rdtscp
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, tsc+0(FP)
	MOVL	CX, aux+8(FP)
	RET
