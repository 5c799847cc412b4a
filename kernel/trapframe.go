package kernel

// TrapFrame is the register state of an interrupted thread, as built on the
// kernel stack by trap_amd64.s: general registers pushed by trapCommon (R15
// lowest), the vector and error code pushed by the stub, then the hardware
// interrupt frame (or its copy built by the SYSCALL entry). The assembly uses
// go_asm.h offsets, so the order here is the order on the stack.
type TrapFrame struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64
	Vector, ErrCode                      uint64
	RIP, CS, RFLAGS, RSP, SS             uint64
}

// Segment selectors. The boot trampoline (cmd/groveimg) uses the same two, so
// switching GDTs needs no far jump.
const (
	selKernelCode = 0x08
	selKernelData = 0x10
	selTSS        = 0x18
)

// Vectors: 0-31 are exceptions (named in package x86), the rest Grove's.
const (
	vecTimer    = 0x40 // then the wait vectors, 0x50-0x57 (WaitVectorBase, irqwait.go)
	vecResched  = 0xf0 // IPI: another CPU queued work here (task.go)
	vecTLB      = 0xf1 // IPI: flush the TLB or fence (ipi.go)
	vecSpurious = 0xff
	vecSyscall  = 0x100 // not a hardware vector: marks the SYSCALL path
)
