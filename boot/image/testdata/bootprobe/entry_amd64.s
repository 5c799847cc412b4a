#include "textflag.h"

#define PUTC(c) MOVB $c, AL; OUTB

// entry64 runs in long mode with no stack, as the groveimg trampoline leaves
// it: RDI = boot magic, RSI = info pointer. It prints
// "BOOT64 magic=XXXXXXXX info=XXXXXXXX\n" on COM1 (0x3f8) and writes 0x10 to
// isa-debug-exit at 0xf4, so QEMU exits with status 33.
TEXT ·entry64(SB),NOSPLIT|NOFRAME,$0
	MOVL $0x3f8, DX
	PUTC('B'); PUTC('O'); PUTC('O'); PUTC('T'); PUTC('6'); PUTC('4'); PUTC(' ')
	PUTC('m'); PUTC('a'); PUTC('g'); PUTC('i'); PUTC('c'); PUTC('=')
	MOVL $28, CX
magic:
	MOVL DI, BX
	SHRL CX, BX
	ANDL $15, BX
	CMPL BX, $10
	JLT mdigit
	ADDL $('A'-10), BX
	JMP mput
mdigit:
	ADDL $'0', BX
mput:
	MOVB BL, AL
	OUTB
	SUBL $4, CX
	JGE magic
	PUTC(' '); PUTC('i'); PUTC('n'); PUTC('f'); PUTC('o'); PUTC('=')
	MOVL $28, CX
info:
	MOVL SI, BX
	SHRL CX, BX
	ANDL $15, BX
	CMPL BX, $10
	JLT idigit
	ADDL $('A'-10), BX
	JMP iput
idigit:
	ADDL $'0', BX
iput:
	MOVB BL, AL
	OUTB
	SUBL $4, CX
	JGE info
	PUTC('\n')
	MOVL $0xf4, DX
	MOVB $0x10, AL
	OUTB
halt:
	HLT
	JMP halt
