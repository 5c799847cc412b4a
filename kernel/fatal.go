package kernel

import "unsafe"

// Fatal paths. A thread killed by a signal nobody catches, running out of
// memory, and a fault in kernel code all end the system with a report and a
// failure exit; none of them may hang.
//
// Kernel faults are symbolized by a Go goroutine (StartFaultReporter) because
// naming a PC needs the runtime's tables and may allocate, which kernel
// context cannot. The faulting CPU prints the raw registers first, hands the
// PCs to the reporter, and then runs nothing else; if the reporter does not
// finish within dyingGrace the timer powers off regardless.

const dyingGrace = 3_000_000_000

// FaultInfo is what the reporter receives (SysGroveFaultWait).
type FaultInfo struct {
	Vector, ErrCode, CR2 uint64
	PCs                  [16]uint64 // faulting RIP, then return addresses
	NPCs                 uint64
}

var (
	dying      bool
	dyingSince int64
	reporter   int32 = -1 // task blocked in SysGroveFaultWait
	reportBuf  uintptr
)

var excNames = [32]string{"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range", "invalid opcode", "device not available", "double fault", "",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "", "x87 error", "alignment check", "machine check", "SIMD error"}

func dumpFrame(f *TrapFrame) {
	kprint("  rip=")
	kprintHex(f.RIP)
	kprint(" rsp=")
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

// kernelFault reports a fault taken by kernel code and never returns to it:
// the frame is switched to the reporter task (or the system powers off), and
// the caller returns straight to the trap exit path.
func kernelFault(c *percpu, f *TrapFrame, what string) {
	kprint("\nkernel: ")
	kprint(what)
	if f.Vector < 32 {
		kprint(": ")
		kprint(excNames[f.Vector])
	}
	kprint(" (vector ")
	kprintDec(f.Vector)
	kprint(")\n")
	dumpFrame(f)
	if dying || reporter < 0 || f.Vector == vecDoubleFault {
		kprint("kernel: no fault reporter; powering off\n")
		shutdown(1)
	}
	info := (*FaultInfo)(unsafe.Pointer(reportBuf))
	info.Vector, info.ErrCode, info.CR2 = f.Vector, f.ErrCode, readCR2()
	info.PCs[0], info.NPCs = f.RIP, 1
	walkFrames(info, uintptr(f.RBP))
	dying, dyingSince = true, nanotime()
	tasks[c.cur].state = taskBlocked // abandoned mid-call
	tasks[c.cur].wait = waitNone
	i := reporter
	tasks[i].regs.RAX = 0
	switchTo(c, f, i)
	rearm(c)
}

// walkFrames follows the frame-pointer chain while it stays on the kernel
// stack (best effort: the fault path itself reuses the top of that stack).
func walkFrames(info *FaultInfo, bp uintptr) {
	c := thisCPU()
	lo, hi := c.kstack-kstackSize, c.kstack
	for info.NPCs < uint64(len(info.PCs)) && bp >= lo && bp+16 <= hi && bp%8 == 0 {
		info.PCs[info.NPCs] = *wordAt(bp + 8)
		info.NPCs++
		bp = uintptr(*wordAt(bp))
	}
}

// dyingSchedule keeps only the reporter running once a kernel fault happened.
func dyingSchedule(c *percpu, f *TrapFrame) {
	if nanotime()-dyingSince > dyingGrace {
		kprint("kernel: fault reporter did not finish; powering off\n")
		shutdown(1)
	}
	if c.cur != reporter && tasks[reporter].state != taskBlocked {
		tasks[c.cur].state = taskBlocked
		switchTo(c, f, reporter)
	}
	armTimer(c, nanotime()+100_000_000)
}

func sysGroveFaultWaitFn(c *percpu, f *TrapFrame) uint64 {
	if !kas.access(uintptr(f.RDI), unsafe.Sizeof(FaultInfo{}), true) {
		return eFAULT.ret()
	}
	reporter, reportBuf = c.cur, uintptr(f.RDI)
	block(c, waitFault, 0, 0)
	return 0
}

func sysGroveCrashFn(c *percpu, f *TrapFrame) uint64 {
	kprint("kernel: crashing on request (crash=kernel)\n")
	return *wordAt(uintptr(f.RDI)) // RDI = 0: a nil dereference in kernel code
}

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

func outOfMemory(f *TrapFrame, addr uint64) {
	kprint("\nkernel: out of memory backing ")
	kprintHex(addr)
	kprint(" (")
	kprintDec(kmem.free)
	kprint(" pages free)\n")
	shutdown(1)
}
