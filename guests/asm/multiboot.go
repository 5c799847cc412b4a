package asm

import "encoding/binary"

// Multiboot (v1) test kernels: the program as a flat image with a header
// that gives its load addresses (the "a.out kludge", Multiboot
// Specification 0.6.96 §3.1.3), booted the way QEMU boots its test kernels.
// The header sits at CodeBase, the code right after it, the data at
// DataBase, then a page of bss.

const (
	mbMagic     = 0x1BADB002
	mbFlags     = 1 << 16 // the address fields are valid
	mbHeaderLen = 32
	mbBootMagic = 0x2BADB002 // EAX at entry
	mbCmdline   = 16         // multiboot_info.cmdline
)

// Ports of the PC devices the multiboot guests use (hv/pc).
const (
	com1THR    = 0x3f8
	fwCfgSel   = 0x510
	fwCfgData  = 0x511
	fwCfgCPUs  = 5 // FW_CFG_NB_CPUS
	pmTimer    = 0x608
	debugExit  = 0xf4
	statusBoot = 0xbad // exit status when EAX held no multiboot magic
)

// MultibootImage wraps the program as a multiboot kernel.
func (p *Prog) MultibootImage() ([]byte, error) {
	code, err := p.Code()
	if err != nil {
		return nil, err
	}
	if mbHeaderLen+len(code) > DataBase-CodeBase {
		return nil, errUndefined("(program too large)")
	}
	end := uint32(DataBase + len(p.data))
	img := make([]byte, end-CodeBase)
	le := binary.LittleEndian
	sum := uint32(mbMagic + mbFlags)
	for i, v := range []uint32{mbMagic, mbFlags, -sum, CodeBase, CodeBase, end, end + 0x1000, CodeBase + mbHeaderLen} {
		le.PutUint32(img[4*i:], v)
	}
	copy(img[mbHeaderLen:], code)
	copy(img[DataBase-CodeBase:], p.data)
	return img, nil
}

// serial prints s on COM1 (the UART transmits at once; no LSR polling).
func (p *Prog) serial(s, id string) *Prog {
	p.Mov(ESI, p.Data(append([]byte(s), 0)))
	return p.serialESI(id)
}

// serialESI prints the NUL-terminated string at ESI on COM1.
func (p *Prog) serialESI(id string) *Prog {
	p.Label("ser"+id).LoadByte(ESI).TestRR(EAX, EAX).Jz("ser" + id + "end")
	return p.OutAL(com1THR).Inc(ESI).Jmp("ser" + id).Label("ser" + id + "end")
}

// MultibootProbe is a multiboot kernel that checks it was started by a
// multiboot loader (else it exits with 0xbad), prints its command line,
// fw_cfg's signature and CPU count, and whether the ACPI PM timer ticks,
// on COM1, then writes status plus the CPU count to the exit port 0xf4:
//
//	<command line>
//	QEMU cpus=N
//	pmtimer ticks
func MultibootProbe(status uint32) ([]byte, error) {
	p := New()
	p.emit(0x3d).imm32(mbBootMagic).Jnz("bad") // cmp eax, 0x2BADB002
	p.LoadDisp(ESI, EBX, mbCmdline).serialESI("cmd").serial("\n", "nl")
	p.Mov(EAX, 0).OutAX(fwCfgSel) // FW_CFG_SIGNATURE
	for range 4 {
		p.InAL(fwCfgData).OutAL(com1THR)
	}
	p.serial(" cpus=", "cpus")
	p.Mov(EAX, fwCfgCPUs).OutAX(fwCfgSel).InAL(fwCfgData).AndImm(EAX, 0xff).MovRR(EDI, EAX)
	p.AddImm(EAX, '0').OutAL(com1THR).serial("\n", "nl2")
	p.InEAX(pmTimer).MovRR(EBP, EAX).Mov(ECX, 10000)
	p.Label("delay").Dec(ECX).Jnz("delay")
	p.InEAX(pmTimer).CmpRR(EAX, EBP).Jz("exit")
	p.serial("pmtimer ticks\n", "pm")
	p.Label("exit").MovRR(EAX, EDI).AddImm(EAX, status).OutEAX(debugExit)
	p.Label("halt").HLT().Jmp("halt")
	p.Label("bad").Mov(EAX, statusBoot).OutEAX(debugExit).Jmp("halt")
	return p.MultibootImage()
}
