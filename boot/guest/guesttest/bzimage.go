package guesttest

import (
	"bytes"
	"encoding/binary"

	"github.com/u-root/u-root/pkg/boot/bzimage"
)

// BzSpec describes a synthetic Linux bzImage (Documentation/arch/x86/
// boot.rst): a setup header as Debian's kernel has it (protocol 2.15,
// LOADED_HIGH, relocatable, 2 MiB aligned, decompressing to BzPref with
// BzInitSize bytes) unless Mutate changes a field, 3 setup sectors, and a
// protected-mode part of head code, a gzip-tagged payload and a CRC.
type BzSpec struct {
	Mutate  func(h *bzimage.LinuxHeader)
	Payload []byte // default: gzip magic and padding
	Cut     int    // bytes to drop from the end of the file
}

// The default header's pref_address and init_size.
const (
	BzPref     = 0x1000000
	BzInitSize = 0x800000
)

// BzImage is BzSpec{}.Build(): a well-formed image.
func BzImage() []byte { return BzSpec{}.Build() }

// Build returns the image's bytes.
func (s BzSpec) Build() []byte {
	payload := s.Payload
	if payload == nil {
		payload = append([]byte{0x1f, 0x8b, 8, 0}, bytes.Repeat([]byte{0xab}, 60)...)
	}
	h := bzimage.LinuxHeader{
		SetupSects: 3, Bootsectormagic: 0xaa55, Jump: 0x6aeb,
		HeaderMagic: bzimage.HeaderMagic, Protocolversion: 0x020f, Loadflags: 1,
		Code32Start: 0x100000, InitrdAddrMax: 0x7fffffff, Kernelalignment: 0x200000,
		RelocatableKernel: 1, MinAlignment: 21, CmdLineSize: 2047, PrefAddress: BzPref,
		InitSize: BzInitSize, PayloadOffset: 0x100, PayloadSize: uint32(len(payload)),
	}
	pm := make([]byte, 0x100)
	for i := range pm {
		pm[i] = byte(i)
	}
	pm = append(pm, payload...)
	pm = append(pm, 0xde, 0xad, 0xbe, 0xef)
	pm = append(pm, make([]byte, (16-len(pm)%16)%16)...)
	h.Syssize = uint32(len(pm) / 16)
	if s.Mutate != nil {
		s.Mutate(&h)
	}
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, &h); err != nil {
		panic(err)
	}
	b.Write(make([]byte, 4*512-b.Len())) // (3+1) sectors of boot sector and setup
	b.Write(pm)
	return b.Bytes()[:b.Len()-s.Cut]
}
