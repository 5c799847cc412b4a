package asm

// MultibootPoker is bad input from a PC-platform guest (issue 13): a
// multiboot kernel that, with interrupts off,
//
//  1. reads every I/O port from 0 to 0xffff and writes back what it read,
//     but isa-debug-exit's 0xf4-0xf7, which would end it;
//  2. writes nonsense (all ones) to the UART, PIT, RTC and PIC ports and
//     to registers of the I/O APIC and its local APIC, timer included;
//  3. reads a word from every page below 4 GiB (RAM, the PC's devices and
//     everything unmodelled) and writes all ones to every 64 KiB from
//     1 GiB up;
//  4. sends fixed, INIT and STARTUP IPIs to an APIC id it does not have;
//
// then restores COM1's line control, prints "poke done" and exits with
// status 0 through isa-debug-exit. The hypervisor and the other domains
// must not notice; at worst the poker is ended with a message saying why.
func MultibootPoker() ([]byte, error) {
	p := New()
	p.CLI()
	// 1. Every port, read and written back.
	p.Mov(ECX, 0)
	p.Label("port").CmpImm(ECX, 0xf4).Jb("portdo")
	p.CmpImm(ECX, 0xf8).Jb("portnext")
	p.Label("portdo").MovRR(EDX, ECX).emit(0xec, 0xee) // in al, dx; out dx, al
	p.Label("portnext").Inc(ECX).CmpImm(ECX, 0x10000).Jb("port")
	// 2. Nonsense to the devices' ports and registers.
	p.Mov(EAX, 0xffffffff)
	for _, port := range []uint16{0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3f8, 0x43, 0x40, 0x42, 0x61, 0x70, 0x71, 0x20, 0x21, 0xa0, 0xa1} {
		p.OutAL(port)
	}
	for _, reg := range []uint32{0xfec00000, 0xfec00010, 0xfec00040, 0xfee00080, 0xfee000f0, 0xfee00320, 0xfee003e0, 0xfee00380, 0xfee00350, 0xfee00370} {
		p.Store(reg)
	}
	// 3. Memory: a word per page read; all ones written per 64 KiB from
	// 1 GiB.
	p.Mov(EBX, 0)
	p.Label("rd").emit(0x8b, 0x03).AddImm(EBX, 0x1000).Jnz("rd") // mov eax, [ebx]; until it wraps
	p.Mov(EBX, 0x40000000).Mov(EAX, 0xffffffff)
	p.Label("wr").emit(0x89, 0x03).AddImm(EBX, 0x10000).Jnz("wr") // mov [ebx], eax
	// 4. IPIs to APIC id 5, which no vCPU has: fixed 0x40, INIT, STARTUP.
	for _, icr := range []uint32{0x4040, 0x4500, 0x4610} {
		p.Mov(EAX, 5<<24).Store(0xfee00310).Mov(EAX, icr).Store(0xfee00300)
	}
	// COM1 back to 8N1 with DLAB off and no loopback, so the line prints.
	p.Mov(EAX, 0x03).OutAL(0x3fb).Mov(EAX, 0).OutAL(0x3fc)
	p.serial("\npoke done\n", "done")
	p.Mov(EAX, 0).OutEAX(debugExit)
	p.Label("halt").HLT().Jmp("halt")
	return p.MultibootImage()
}
