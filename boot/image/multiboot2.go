package image

import "encoding/binary"

// Multiboot2 Specification version 2.0 §3.1 (OS image format): a header of
// magic, architecture, header_length and checksum (the four u32s sum to
// zero), then tags of {u16 type, u16 flags, u32 size}, each starting 8-byte
// aligned, ended by a type-0 tag of size 8. The header must sit 8-byte aligned in the first
// 32768 bytes of the file (§3.1.1).
const (
	mb2Magic      = 0xE85250D6
	mb2ArchI386   = 0     // 32-bit protected mode of i386 (§3.1.2)
	mb2SearchSize = 32768 // §3.1.1
	mb2Align      = 8     // §3.1.1 and §3.1.3 (tags)
	mb2TagEnd     = 0     // §3.1.3
	mb2TagInfoReq = 1     // §3.1.4 information request
	mb2TagAddress = 2     // §3.1.5 address tag (a.out kludge)
	mb2TagEntry   = 3     // §3.1.6 entry address tag (i386 entry)
	mb2HeaderSize = 16 + 32 + 24 + 16 + 8
)

// Boot information tag types Grove asks the loader for (§3.6): command line,
// modules, memory map, ACPI RSDP copies and the EFI memory map (used only
// when the loader gives no type-6 map).
var mb2Requests = [6]uint32{
	1,  // boot command line
	3,  // modules
	6,  // memory map
	14, // ACPI old RSDP
	15, // ACPI new RSDP
	17, // EFI memory map
}

// The multiboot2 entry shares the multiboot v1 entry: both protocols hand
// the magic over in EAX (0x2BADB002 / 0x36D76289) and the info pointer in
// EBX, in 32-bit protected mode with paging off (§3.3, I386 machine state),
// which is all the trampoline needs. GRUB enters that way under EFI too
// because the header has no EFI boot-services tag (§3.1.12): it leaves boot
// services itself first.
const Multiboot2BootloaderMagic = 0x36D76289 // §3.3, in EAX

func mb2Checksum(length uint32) uint32 { return -(mb2Magic + mb2ArchI386 + length) }

// writeMultiboot2 writes the header at b (vaddr headerAddr): the address
// tag makes the loader copy the file as one blob, as with v1's a.out kludge,
// so it never parses Go's ELF.
func (l *layout) writeMultiboot2(b []byte, headerAddr, entry uint32) {
	var h []byte
	u16 := func(v uint16) { h = binary.LittleEndian.AppendUint16(h, v) }
	u32 := func(v uint32) { h = binary.LittleEndian.AppendUint32(h, v) }
	tag := func(typ uint16, size uint32) { u16(typ); u16(0); u32(size) } // flags 0: required
	u32(mb2Magic)
	u32(mb2ArchI386)
	u32(mb2HeaderSize)
	u32(mb2Checksum(mb2HeaderSize))
	tag(mb2TagInfoReq, 8+4*uint32(len(mb2Requests)))
	for _, r := range mb2Requests {
		u32(r)
	}
	tag(mb2TagAddress, 24)
	u32(headerAddr)
	u32(l.loadAddr)
	u32(l.loadEnd)
	u32(l.bssEnd)
	tag(mb2TagEntry, 12)
	u32(entry)
	u32(0) // pad the next tag to 8 bytes
	tag(mb2TagEnd, 8)
	copy(b, h)
}

// findMultiboot2Header reports a valid multiboot2 header in the first 32 KiB.
func findMultiboot2Header(in []byte) (int, bool) {
	end := min(len(in), mb2SearchSize) - 16
	for off := 0; off <= end; off += mb2Align {
		le := binary.LittleEndian
		if le.Uint32(in[off:]) == mb2Magic &&
			le.Uint32(in[off+12:]) == -(mb2Magic+le.Uint32(in[off+4:])+le.Uint32(in[off+8:])) {
			return off, true
		}
	}
	return 0, false
}
