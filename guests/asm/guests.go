package asm

import "grove/hv/abi"

// The test guests. Each returns a PVH ELF image.

// hypercall emits VMMCALL with RAX=nr and RDI, RSI, RDX = a, b, c.
func (p *Prog) hypercall(nr, a, b, c uint32) *Prog {
	return p.Mov(EAX, nr).Mov(EDI, a).Mov(ESI, b).Mov(EDX, c).VMMCALL()
}

// write prints s through console_io.
func (p *Prog) write(s string) *Prog {
	buf := p.Data([]byte(s))
	return p.hypercall(abi.ConsoleIO, abi.ConsoleWrite, uint32(len(s)), buf)
}

// printHex prints "<prefix>XXXXXXXX\n" with EAX's value (clobbers EAX-EDI).
func (p *Prog) printHex(prefix string, id string) *Prog {
	buf := p.Data([]byte(prefix + "00000000\n"))
	p.hexAt(buf+uint32(len(prefix)), id)
	return p.hypercall(abi.ConsoleIO, abi.ConsoleWrite, uint32(len(prefix)+9), buf)
}

// hexAt writes EAX's value as 8 hex digits at addr (clobbers EAX, EBX, ECX,
// EDI; 32-bit code only).
func (p *Prog) hexAt(addr uint32, id string) *Prog {
	tab := p.Data([]byte("0123456789abcdef"))
	p.Mov(EDI, addr)
	return p.hexEDI(tab, id)
}

// hexEDI writes EAX's value as 8 hex digits at EDI, which it advances
// (clobbers EAX, EBX, ECX); tab holds the digits.
func (p *Prog) hexEDI(tab uint32, id string) *Prog {
	p.Mov(ECX, 8)
	p.Label("hex"+id).RolImm(EAX, 4).MovRR(EBX, EAX).AndImm(EBX, 0xf).LoadTableByte(tab).StoreBL()
	return p.Inc(EDI).Dec(ECX).Jnz("hex" + id)
}

func (p *Prog) poweroff() *Prog {
	return p.hypercall(abi.SchedOp, abi.SchedShutdown, abi.ShutdownPoweroff, 0)
}

// Hello writes a greeting through the debug port, then through console_io,
// and powers off.
func Hello() ([]byte, error) {
	p := New()
	msg := p.Data([]byte("hello from port 0xe9\n\x00"))
	p.Mov(ESI, msg)
	p.Label("loop").LoadByte(ESI).TestRR(EAX, EAX).Jz("done").OutAL(abi.DebugPort).Inc(ESI).Jmp("loop")
	p.Label("done").write("hello from console_io\n").poweroff()
	return p.Image()
}

// Heartbeat prints "beat N" (hex) every period nanoseconds, forever.
func Heartbeat(periodNS uint32) ([]byte, error) {
	p := New()
	counter := p.Data(make([]byte, 4))
	p.Label("top").Load(counter).Inc(EAX).Store(counter)
	p.printHex("beat ", "b")
	p.hypercall(abi.SchedOp, abi.SchedSleep, periodNS, 0)
	p.Jmp("top")
	return p.Image()
}

// Spin says it runs, then loops forever without an exit of its own: only a
// host interrupt (its slice's end, a kick from another CPU) takes it off
// its CPU, which is what measuring a cross-CPU pause needs.
func Spin() ([]byte, error) {
	p := New()
	p.write("spinning\n")
	p.Label("top").Inc(EAX).Jmp("top")
	return p.Image()
}

// Work counts n times m iterations of a register loop, says "done" and
// powers off: a fixed amount of CPU-bound work with no exits of its own,
// for measuring how guests scale over CPUs.
func Work(n, m uint32) ([]byte, error) {
	p := New()
	p.write("working\n")
	p.Mov(EDX, n)
	p.Label("outer").Mov(ECX, m)
	p.Label("inner").Dec(ECX).Jnz("inner")
	p.Dec(EDX).Jnz("outer")
	p.write("done\n")
	p.poweroff()
	return p.Image()
}

// CPUIDProbe prints the hypervisor signature and whether SVM shows.
func CPUIDProbe() ([]byte, error) {
	p := New()
	sig := p.Data([]byte("signature ????????????\n"))
	p.Mov(EAX, abi.CPUIDSignature).Mov(ECX, 0).CPUID()
	p.StoreReg(sig+10, EBX).StoreReg(sig+14, ECX).StoreReg(sig+18, EDX)
	p.hypercall(abi.ConsoleIO, abi.ConsoleWrite, 23, sig)
	p.Mov(EAX, 0x80000001).Mov(ECX, 0).CPUID().MovRR(EAX, ECX).AndImm(EAX, 1<<2)
	p.printHex("svm bit ", "s")
	return p.poweroff().Image()
}

// Results runs hypercalls that must fail and prints each result: a bad
// pointer (-EFAULT), an unknown number (-ENOSYS), domctl from a domU
// (-EPERM), an oversized write (-EINVAL).
func Results() ([]byte, error) {
	p := New()
	p.hypercall(abi.ConsoleIO, abi.ConsoleWrite, 16, 0x7ff00000)
	p.printHex("badptr ", "1")
	p.hypercall(999, 0, 0, 0)
	p.printHex("unknown ", "2")
	ctl := p.Data(abi.Ctl{Cmd: abi.DomctlGetInfo, Version: abi.DomctlVersion}.Encode())
	p.hypercall(abi.Domctl, ctl, 0, 0)
	p.printHex("domctl ", "3")
	old := p.Data(abi.Ctl{Cmd: abi.DomctlGetInfo, Version: 0}.Encode())
	p.hypercall(abi.Domctl, old, 0, 0)
	p.printHex("domctl-version ", "5")
	p.hypercall(abi.ConsoleIO, abi.ConsoleWrite, abi.ConsoleMax+1, DataBase)
	p.printHex("toolong ", "4")
	return p.poweroff().Image()
}

// Unmapped reads guest-physical memory far beyond its RAM.
func Unmapped() ([]byte, error) {
	p := New()
	p.write("reading unmapped memory\n").Load(0xf0000000).Store(DataBase)
	return p.write("still alive?\n").poweroff().Image()
}

// TripleFault shuts the vCPU down with no IDT.
func TripleFault() ([]byte, error) {
	p := New()
	return p.write("about to triple fault\n").TripleFault().Image()
}

// Fuzz makes n hypercalls with pseudo-random numbers and arguments
// (xorshift32), then reports it survived.
func Fuzz(n uint32) ([]byte, error) {
	p := New()
	state := p.Data([]byte{0x5d, 0x1f, 0x37, 0x2b})
	count := p.Data(make([]byte, 4))
	next := func(reg int) {
		p.Load(state).MovRR(EBX, EAX).ShlImm(EBX, 13).XorRR(EAX, EBX)
		p.MovRR(EBX, EAX).ShrImm(EBX, 17).XorRR(EAX, EBX)
		p.MovRR(EBX, EAX).ShlImm(EBX, 5).XorRR(EAX, EBX).Store(state)
		if reg != EAX {
			p.MovRR(reg, EAX)
		}
	}
	p.Label("loop")
	next(EDI)
	next(ESI)
	next(EDX)
	next(EAX)
	p.AndImm(EAX, 63)
	// Never ask to shut down or sleep: keep the loop going.
	p.CmpImm(EAX, abi.SchedOp).Jnz("call").Mov(EDI, abi.SchedYield)
	p.Label("call").VMMCALL()
	p.Load(count).Inc(EAX).Store(count).CmpImm(EAX, n).Jb("loop")
	p.write("fuzz done\n")
	return p.poweroff().Image()
}

// Control is a control-domain guest: it exercises domctl on domain target
// (pause for holdNS, then unpause) and the error paths, printing each
// result, then beats like Heartbeat.
func Control(target uint16, holdNS, beatNS uint32) ([]byte, error) {
	p := New()
	call := func(cmd uint32, dom uint16, version uint32, label string) uint32 {
		c := p.Data(abi.Ctl{Cmd: cmd, Version: version, Domain: dom}.Encode())
		p.hypercall(abi.Domctl, c, 0, 0)
		p.printHex(label+" ", label)
		return c
	}
	p.hypercall(abi.SchedOp, abi.SchedSleep, 300_000_000, 0)
	call(abi.DomctlPause, target, abi.DomctlVersion, "pause")
	p.hypercall(abi.SchedOp, abi.SchedSleep, holdNS, 0)
	info := call(abi.DomctlGetInfo, target, abi.DomctlVersion, "getinfo")
	p.Load(info + abi.UnionOff + 4)
	p.printHex("flags ", "flags")
	call(abi.DomctlUnpause, target, abi.DomctlVersion, "unpause")
	call(abi.DomctlUnpause, target, abi.DomctlVersion, "unpause-again")
	call(abi.DomctlPause, 0, abi.DomctlVersion, "pause-self")
	call(abi.DomctlGetInfo, 99, abi.DomctlVersion, "getinfo-99")
	call(abi.DomctlGetInfo, target, 0, "bad-version")
	counter := p.Data(make([]byte, 4))
	p.Label("top").Load(counter).Inc(EAX).Store(counter)
	p.printHex("beat ", "b")
	p.hypercall(abi.SchedOp, abi.SchedSleep, beatNS, 0)
	p.Jmp("top")
	return p.Image()
}

// Bench times null hypercalls (an unknown number: dispatch and return,
// -ENOSYS) against CPUID exits in rounds of n each, alternating so that
// both see the same machine; each round prints its total in TSC cycles as
// "null-hypercall hi HHHHHHHH" / "null-hypercall lo LLLLLLLL" (and
// "cpuid-exit ...").
func Bench(n, rounds uint32) ([]byte, error) {
	p := New()
	start := p.Data(make([]byte, 8))
	count := p.Data(make([]byte, 4))
	hi := p.Data(make([]byte, 4))
	measure := func(name, id string, body func()) {
		p.Mov(EAX, 0).Store(count)
		p.RDTSC().Store(start).StoreReg(start+4, EDX)
		p.Label(name + id)
		body()
		p.Load(count).Inc(EAX).Store(count).CmpImm(EAX, n).Jb(name + id)
		p.RDTSC().SubEAXMem(start).SbbEDXMem(start+4).StoreReg(hi, EDX)
		p.StoreReg(start, EAX) // keep the low half while printing the high one
		p.Load(hi).printHex(name+" hi ", name+id+"h")
		p.Load(start).printHex(name+" lo ", name+id+"l")
	}
	for i := uint32(0); i < rounds; i++ {
		id := string(rune('a' + i))
		measure("null-hypercall", id, func() { p.Mov(EAX, 0xfff).VMMCALL() })
		measure("cpuid-exit", id, func() { p.Mov(EAX, 0).Mov(ECX, 0).CPUID() })
	}
	return p.poweroff().Image()
}
