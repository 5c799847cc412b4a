package kernel

import "grove/x86"

// Descriptor tables (AMD APM vol. 2, 4.8 and 8.9): a GDT with the two code
// and data selectors the trampoline already uses plus this CPU's TSS, whose
// IST slots give exceptions and interrupts known-good stacks (at CPL0 the CPU
// would otherwise push onto whatever Go stack was running).

const (
	kstackSize  = 64 << 10 // IST1: syscalls, interrupts, exceptions
	dfStackSize = 16 << 10 // IST2: double fault, NMI, machine check
	kgGuard     = 1024     // stack guard the compiler's checks compare against
)

// tss is the 64-bit TSS as 32-bit words (its 64-bit fields are misaligned).
type tss [26]uint32

// Kernel context.
func (t *tss) setIST(n int, top uintptr) {
	t[9+2*(n-1)] = uint32(top)
	t[10+2*(n-1)] = uint32(top >> 32)
}

// kernelGs are the fake gs kernel code runs on: only the stack bounds the
// compiler's prologues read are real, so kernel code must not call into
// anything that needs an M (allocation, write barriers, panics).
var kernelGs [maxCPUs][32]uintptr

var idt [256][2]uint64

// Boot path.
func descriptor(limit uint16, base uintptr) [2]uint64 {
	return [2]uint64{uint64(limit) | uint64(base)<<16, uint64(base) >> 48}
}

// cpuInit sets up c's stacks, GDT, TSS and GS base on the executing CPU.
// Boot path.
func cpuInit(c *percpu, id int, stacks uintptr) {
	c.id = id
	c.self = uintptrOf(c)
	c.stacks = stacks
	c.runHead, c.runTail = -1, -1
	c.kstack = stacks + dfStackSize + kstackSize
	kg := &kernelGs[id]
	kg[0], kg[1], kg[2], kg[3] = stacks, c.kstack, stacks+kgGuard, stacks+kgGuard
	c.kg = uintptrOf(kg)

	c.tss[25] = 104 << 16 // I/O map base past the end: no bitmap
	c.tss.setIST(1, c.kstack)
	c.tss.setIST(2, stacks+dfStackSize)
	base := uintptrOf(&c.tss)
	const limit = 103
	c.gdt[1] = 0x00af9a000000ffff // 0x08: 64-bit code
	c.gdt[2] = 0x00cf92000000ffff // 0x10: data
	c.gdt[3] = limit | uint64(base&0xffffff)<<16 | 0x89<<40 | uint64(base>>24&0xff)<<56
	c.gdt[4] = uint64(base >> 32)
	d := descriptor(uint16(len(c.gdt)*8-1), uintptrOf(&c.gdt))
	lgdt(uintptrOf(&d))
	ltr(selTSS)
	wrmsr(x86.MSRGSBase, uint64(c.self))
	// RDTSCP tells readTSC which CPU it ran on. A guest leaves TSC_AUX
	// alone: Grove refuses MSRs it does not know (#GP), and keeps the TSC
	// one clock across its vCPUs itself, so tscUseOffsets stays false.
	if hasRDTSCP && !isGuest {
		wrmsr(msrTSCAux, uint64(id))
	}
}

// idtInit fills the IDT from the stubs in trap_amd64.s and loads it.
// Boot path.
func idtInit() {
	stubs := ptrAt[[39 + WaitVectors]uintptr](vectorStubsAddr())
	for v := range idt {
		stub, ist := stubs[34], 1 // vecOther
		switch {
		case v < 32:
			stub = stubs[v]
		case isWaitVector(uint64(v)):
			stub = stubs[39+v-WaitVectorBase]
		case v == vecTimer:
			stub = stubs[32]
		case v == vecResched:
			stub = stubs[37]
		case v == vecTLB:
			stub = stubs[38]
		case v == vecSpurious:
			stub = stubs[33]
		}
		if v == x86.VecDF || v == x86.VecNMI || v == x86.VecMC {
			ist = 2
		}
		idt[v] = [2]uint64{
			uint64(stub&0xffff) | selKernelCode<<16 | uint64(ist)<<32 | 0x8e<<40 | uint64(stub>>16&0xffff)<<48,
			uint64(stub >> 32),
		}
	}
	idtLoad()
}

// idtLoad loads the shared IDT on the executing CPU.
// Boot path.
func idtLoad() {
	d := descriptor(uint16(len(idt)*16-1), uintptrOf(&idt))
	lidt(uintptrOf(&d))
}

// syscallInit points SYSCALL at syscallEntry with interrupts masked.
// Boot path.
func syscallInit() {
	stubs := ptrAt[[37]uintptr](vectorStubsAddr())
	wrmsr(x86.MSREFER, rdmsr(x86.MSREFER)|x86.EFERSCE|x86.EFERNXE)
	wrmsr(x86.MSRSTAR, selKernelCode<<32)
	wrmsr(x86.MSRLSTAR, uint64(stubs[35]))
	wrmsr(x86.MSRSFMASK, x86.RFLAGSIF|x86.RFLAGSDF|x86.RFLAGSTF|x86.RFLAGSAC)
}

// Boot path.
func idleLoopAddr() uintptr {
	return ptrAt[[37]uintptr](vectorStubsAddr())[36]
}
