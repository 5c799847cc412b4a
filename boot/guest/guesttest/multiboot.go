package guesttest

import (
	"bytes"
	"encoding/binary"
)

// Multiboot (v1) header (Multiboot Specification 0.6.96, §3.1.1).
const (
	MultibootMagic = 0x1BADB002
	MultibootAout  = 1 << 16 // the header's address fields are valid
)

// MultibootHeader is a header with flags and a correct checksum; with
// MultibootAout in flags, addr (header_addr, load_addr, load_end_addr,
// bss_end_addr, entry_addr) follows it.
func MultibootHeader(flags uint32, addr ...uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, MultibootMagic)
	b = le.AppendUint32(b, flags)
	b = le.AppendUint32(b, -(MultibootMagic + flags))
	for _, a := range addr {
		b = le.AppendUint32(b, a)
	}
	return b
}

// MultibootELF is an ELF32 kernel as kvm-unit-tests builds them: the
// header at the start of its code segment (within the first 8 KiB of the
// file), code at base, data with bss 64 KiB above it, entry just past the
// header.
func MultibootELF(base uint64) []byte {
	code := append(MultibootHeader(0), bytes.Repeat([]byte{0xf4}, 52)...) // hlt
	return ELF(Spec{
		Segments: []Segment{
			{Paddr: base, Data: code},
			{Paddr: base + 0x10000, Data: []byte("multiboot data"), Memsz: 0x3000},
		},
		Entry: base + 12,
	})
}

// MultibootAoutImage is a flat binary with an a.out-kludge header at file
// offset 0 loaded at load: 4 KiB of file, 4 KiB of bss, entry past the
// header.
func MultibootAoutImage(load uint32) []byte {
	h := MultibootHeader(MultibootAout, load, load, load+0x1000, load+0x2000, load+32)
	return append(h, bytes.Repeat([]byte{0xf4}, 0x1000-len(h))...)
}
