package image

import (
	"encoding/binary"

	"grove/x86"
	"grove/x86/paging"
)

// Blob layout, as offsets from the 16-byte aligned start of the padding the
// blob is written into. Everything lives at an address fixed at build time,
// so absolute addresses are patched straight into the instructions.
const (
	offMBHeader = 0  // multiboot header, 32 bytes
	offXenNote  = 32 // PVH note, 24 bytes
	offGDT      = 56 // 3 descriptors, 8-byte aligned
	offGDTR     = 80 // 16-bit limit + 32-bit base
	offMB2      = 88 // multiboot2 header, 96 bytes, 8-byte aligned
	offPVHEntry = offMB2 + mb2HeaderSize
	offMBEntry  = offPVHEntry + 6 // after "cli; mov eax, imm32"
	blobAlign   = 16
)

// GDT selectors the 64-bit entry runs with.
const (
	SelCode64 = 0x08
	SelData   = 0x10
)

var gdt = [3]uint64{
	0,                  // null
	0x00AF9A000000FFFF, // 0x08: 64-bit code, DPL0 (L=1, D=0)
	0x00CF92000000FFFF, // 0x10: flat 4 GiB data, DPL0
}

// Magic values the trampoline hands to entry64 in RDI (and
// Multiboot2BootloaderMagic, which arrives in EAX like multiboot's).
const (
	MultibootBootloaderMagic = 0x2BADB002 // Multiboot 0.6.96 §3.2, in EAX
	XenHVMStartMagic         = 0x336ec578 // start_info.h XEN_HVM_START_MAGIC_VALUE
)

// The boot tables' entries (bits: x86/paging; control registers, EFER:
// package x86). PD entries map 2 MiB pages.
const (
	ptePW  = paging.P | paging.RW
	ptePS  = paging.PS
	hugePg = 2 << 20
)

// code is a tiny assembler: instructions are hand-encoded bytes and every
// emit carries its mnemonic in a comment at the call site.
type code struct {
	b    []byte
	base uint32 // vaddr of b[0]
}

func (c *code) emit(bs ...byte) { c.b = append(c.b, bs...) }
func (c *code) u16(v uint16)    { c.b = binary.LittleEndian.AppendUint16(c.b, v) }
func (c *code) u32(v uint32)    { c.b = binary.LittleEndian.AppendUint32(c.b, v) }
func (c *code) u64(v uint64)    { c.b = binary.LittleEndian.AppendUint64(c.b, v) }
func (c *code) pc() uint32      { return c.base + uint32(len(c.b)) }

// movMemImm emits "mov dword [addr], imm32".
func (c *code) movMemImm(addr, imm uint32) {
	c.emit(0xC7, 0x05) // mov dword [disp32], imm32
	c.u32(addr)
	c.u32(imm)
}

// trampoline returns the machine code that starts at blob offset
// offPVHEntry. Entry state for all three protocols: 32-bit protected mode,
// flat CS/DS/ES/SS, paging off, no usable stack (Multiboot 0.6.96 §3.2;
// Multiboot2 2.0 §3.3; Xen start_info.h "start of day" for PVH),
// interrupts possibly on.
//
// It zeroes 6 pages at pt and builds PML4 -> PDPT -> 4 PDs mapping 0-4 GiB
// with 2 MiB pages, enables PAE + long mode + paging, loads the GDT at
// gdtr, and far-jumps to a 64-bit stub that calls entry64 with
// RDI = boot magic and RSI = info pointer, both zero-extended.
func trampoline(base, pt, gdtr uint32, entry64 uint64) []byte {
	c := &code{base: base}
	// PVH entry: EBX = hvm_start_info; no magic in EAX, so supply one.
	c.emit(0xFA) // cli
	c.emit(0xB8) // mov eax, XEN_HVM_START_MAGIC_VALUE
	c.u32(XenHVMStartMagic)
	// Multiboot v1 and v2 entry (offMBEntry): EAX = magic, EBX = info.
	c.emit(0xFA)       // cli
	c.emit(0x89, 0xC5) // mov ebp, eax   (boot magic survives in EBP)
	c.emit(0x89, 0xDE) // mov esi, ebx   (info pointer survives in ESI)
	c.emit(0xFC)       // cld

	// The tables sit in BSS, but loaders need not zero it for us.
	c.emit(0xBF) // mov edi, pt
	c.u32(pt)
	c.emit(0xB9) // mov ecx, 6*4096/4
	c.u32(tablePages * pageSize / 4)
	c.emit(0x31, 0xC0) // xor eax, eax
	c.emit(0xF3, 0xAB) // rep stosd

	pdpt, pd := pt+pageSize, pt+2*pageSize
	c.movMemImm(pt, pdpt|ptePW) // PML4[0] = PDPT
	for i := uint32(0); i < 4; i++ {
		c.movMemImm(pdpt+8*i, (pd+i*pageSize)|ptePW) // PDPT[i] = PD i
	}
	// PD entries k = 0..2047: k*2 MiB | PS|W|P; high dwords stay zero.
	c.emit(0xBF) // mov edi, pd
	c.u32(pd)
	c.emit(0xB8) // mov eax, PS|W|P
	c.u32(ptePS | ptePW)
	c.emit(0xB9) // mov ecx, 2048
	c.u32(4 * 512)
	loop := c.pc()
	c.emit(0x89, 0x07) // mov [edi], eax
	c.emit(0x05)       // add eax, 2 MiB
	c.u32(hugePg)
	c.emit(0x83, 0xC7, 0x08)                              // add edi, 8
	c.emit(0x49)                                          // dec ecx
	c.emit(0x75, byte(int8(int32(loop)-int32(c.pc()+2)))) // jnz loop

	// Long mode, in the order of AMD APM vol. 2 §14.6 (Enabling and
	// Activating Long Mode): PAE and CR3, then EFER.LME, then CR0.PG.
	c.emit(0xB8) // mov eax, pt
	c.u32(pt)
	c.emit(0x0F, 0x22, 0xD8)       // mov cr3, eax
	c.emit(0x0F, 0x20, 0xE0)       // mov eax, cr4
	c.emit(0x83, 0xC8, x86.CR4PAE) // or eax, CR4.PAE
	c.emit(0x0F, 0x22, 0xE0)       // mov cr4, eax
	c.emit(0xB9)                   // mov ecx, MSR_EFER
	c.u32(x86.MSREFER)
	c.emit(0x0F, 0x32) // rdmsr
	c.emit(0x0D)       // or eax, EFER.LME
	c.u32(x86.EFERLME)
	c.emit(0x0F, 0x30)       // wrmsr
	c.emit(0x0F, 0x01, 0x15) // lgdt [gdtr]
	c.u32(gdtr)
	c.emit(0x0F, 0x20, 0xC0) // mov eax, cr0
	c.emit(0x0D)             // or eax, CR0.PG|CR0.PE
	c.u32(x86.CR0PG | x86.CR0PE)
	c.emit(0x0F, 0x22, 0xC0) // mov cr0, eax   (now in compatibility mode)
	c.emit(0xEA)             // jmp far SelCode64:stub64
	c.u32(c.pc() + 6)
	c.u16(SelCode64)

	// 64-bit stub. Upper register halves are undefined after the mode
	// switch, so 32-bit moves zero-extend RDI and RSI.
	c.emit(0xB8) // mov eax, SelData
	c.u32(SelData)
	c.emit(0x8E, 0xD8) // mov ds, eax
	c.emit(0x8E, 0xC0) // mov es, eax
	c.emit(0x8E, 0xD0) // mov ss, eax
	c.emit(0x8E, 0xE0) // mov fs, eax
	c.emit(0x8E, 0xE8) // mov gs, eax
	c.emit(0x89, 0xEF) // mov edi, ebp
	c.emit(0x89, 0xF6) // mov esi, esi
	c.emit(0x48, 0xB8) // mov rax, imm64
	c.u64(entry64)
	c.emit(0xFF, 0xE0) // jmp rax
	return c.b
}

// gdtBytes returns the GDT followed at offGDTR-offGDT by its 6-byte pseudo
// descriptor (limit, 32-bit base) for LGDT in 32-bit mode.
func gdtBytes(gdtAddr uint32) []byte {
	var b []byte
	for _, d := range gdt {
		b = binary.LittleEndian.AppendUint64(b, d)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(gdt)*8-1))
	return binary.LittleEndian.AppendUint32(b, gdtAddr)
}
