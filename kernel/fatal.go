package kernel

// Fatal paths. A thread killed by a signal nobody catches, running out of
// memory, and a fault in kernel code all end the system with a report and a
// failure exit; none of them may hang. Reports symbolize PCs from the
// pclntab (symbolize.go), so they need nothing of the runtime.

var excNames = [32]string{"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range", "invalid opcode", "device not available", "double fault", "",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "", "x87 error", "alignment check", "machine check", "SIMD error"}

// Kernel context.
func dumpFrame(f *TrapFrame) {
	kprint("  rip=")
	kprintHex(f.RIP)
	kprint(" ")
	kprintSym(uintptr(f.RIP))
	kprint("\n  rsp=")
	kprintHex(f.RSP)
	kprint(" rflags=")
	kprintHex(f.RFLAGS)
	kprint(" err=")
	kprintHex(f.ErrCode)
	kprint(" cr2=")
	kprintHex(readCR2())
	regs := frameRegs(f)
	names := [...]string{"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
		"rdi", "rsi", "rbp", "rbx", "rdx", "rax", "rcx"}
	for i, n := range names {
		if i%4 == 0 {
			kprint("\n ")
		}
		kprint(" ")
		kprint(n)
		kprint("=")
		kprintHex(*regs[i])
	}
	kprint("\n")
}

// kernelFault reports a fault taken by kernel code (or an exception that
// cannot be survived) and powers off.
// Kernel context.
func kernelFault(f *TrapFrame, what string) {
	kprint("\nkernel: cpu ")
	kprintDec(uint64(thisCPU().id))
	kprint(": ")
	kprint(what)
	if f.Vector < 32 {
		kprint(": ")
		kprint(excNames[f.Vector])
	}
	kprint(" (vector ")
	kprintDec(f.Vector)
	kprint(")\n")
	dumpFrame(f)
	walkFrames(uintptr(f.RBP))
	shutdown(1)
}

// walkFrames prints the frame-pointer chain while it stays on a kernel
// stack. It is best effort: the fault path reuses the top of that stack.
// Kernel context.
func walkFrames(bp uintptr) {
	c := thisCPU()
	lo, hi := c.kstack-kstackSize-dfStackSize, c.kstack
	for n := 0; n < 16 && bp >= lo && bp+16 <= hi && bp%8 == 0; n++ {
		pc := uintptr(*wordAt(bp + 8))
		if _, _, ok := funcFor(pc - 1); !ok {
			return // the chain left live frames
		}
		kprint("  called from ")
		kprintHex(uint64(pc))
		kprint(" ")
		kprintSym(pc - 1)
		kprint("\n")
		bp = uintptr(*wordAt(bp))
	}
}

// Kernel context.
func sysGroveCrashFn(c *percpu, f *TrapFrame) uint64 {
	kprint("kernel: crashing on request (crash=kernel)\n")
	return *wordAt(uintptr(f.RDI)) // RDI = 0: a nil dereference in kernel code
}

// sysGroveCrashDFFn points IST1 at unmapped memory and faults: delivering
// the page fault then faults too, which the CPU turns into a double fault on
// IST2 (crash=double).
// Kernel context.
func sysGroveCrashDFFn(c *percpu, f *TrapFrame) uint64 {
	kprint("kernel: double-faulting on request (crash=double)\n")
	c.tss.setIST(1, userTop&^0xfff)
	return *wordAt(uintptr(f.RDI))
}

// Kernel context.
func fatalSignal(f *TrapFrame, sig int, addr uint64) {
	kprint("\nkernel: thread ")
	kprintDec(uint64(tasks[thisCPU().cur].tid))
	kprint(" killed by signal ")
	kprintDec(uint64(sig))
	kprint(" (addr ")
	kprintHex(addr)
	kprint(")\n")
	dumpFrame(f)
	shutdown(1)
}

// Kernel context.
func outOfMemory(f *TrapFrame, addr uint64) {
	kprint("\nkernel: out of memory backing ")
	kprintHex(addr)
	kprint(" (")
	kprintDec(kmem.free)
	kprint(" pages free)\n")
	dumpFrame(f)
	shutdown(1)
}
