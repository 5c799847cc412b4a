//go:build groveguest

#include "textflag.h"

// func hypercall(nr, a, b, c uintptr) uintptr
TEXT ·hypercall(SB),NOSPLIT,$0-40
	MOVQ	nr+0(FP), AX
	MOVQ	a+8(FP), DI
	MOVQ	b+16(FP), SI
	MOVQ	c+24(FP), DX
	BYTE $0x0f; BYTE $0x01; BYTE $0xd9	// vmmcall
	MOVQ	AX, ret+32(FP)
	RET
