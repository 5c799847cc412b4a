// Shared by the VMRUN loops (vmrun_amd64.s, floor_amd64.s).

// The assembler lacks the SVM instructions (APM vol. 3):
#define VMRUN_AX	BYTE $0x0f; BYTE $0x01; BYTE $0xd8	// vmrun  (rax = VMCB PA)
#define VMLOAD_AX	BYTE $0x0f; BYTE $0x01; BYTE $0xda	// vmload (rax)
#define VMSAVE_AX	BYTE $0x0f; BYTE $0x01; BYTE $0xdb	// vmsave (rax)
#define STGI		BYTE $0x0f; BYTE $0x01; BYTE $0xdc	// stgi
#define CLGI		BYTE $0x0f; BYTE $0x01; BYTE $0xdd	// clgi

// LOAD_GUEST loads the guest's general registers from the Regs at DI,
// DI itself last. RAX and RSP come from the VMCB.
#define LOAD_GUEST \
	MOVQ	Regs_RBX(DI), BX; \
	MOVQ	Regs_RCX(DI), CX; \
	MOVQ	Regs_RDX(DI), DX; \
	MOVQ	Regs_RSI(DI), SI; \
	MOVQ	Regs_RBP(DI), BP; \
	MOVQ	Regs_R8(DI), R8; \
	MOVQ	Regs_R9(DI), R9; \
	MOVQ	Regs_R10(DI), R10; \
	MOVQ	Regs_R11(DI), R11; \
	MOVQ	Regs_R12(DI), R12; \
	MOVQ	Regs_R13(DI), R13; \
	MOVQ	Regs_R14(DI), R14; \
	MOVQ	Regs_R15(DI), R15; \
	MOVQ	Regs_RDI(DI), DI

// SAVE_GUEST stores the guest's general registers but RDI into the Regs
// at DI (the caller has saved the guest's RDI and loaded DI).
#define SAVE_GUEST \
	MOVQ	BX, Regs_RBX(DI); \
	MOVQ	CX, Regs_RCX(DI); \
	MOVQ	DX, Regs_RDX(DI); \
	MOVQ	SI, Regs_RSI(DI); \
	MOVQ	BP, Regs_RBP(DI); \
	MOVQ	R8, Regs_R8(DI); \
	MOVQ	R9, Regs_R9(DI); \
	MOVQ	R10, Regs_R10(DI); \
	MOVQ	R11, Regs_R11(DI); \
	MOVQ	R12, Regs_R12(DI); \
	MOVQ	R13, Regs_R13(DI); \
	MOVQ	R14, Regs_R14(DI); \
	MOVQ	R15, Regs_R15(DI)
