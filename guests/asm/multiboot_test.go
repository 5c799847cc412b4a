package asm

import (
	"encoding/binary"
	"testing"

	"grove/boot/guest"
)

// TestMultibootProbeLoads: the probe is a multiboot kernel Grove's loader
// takes (a.out-kludge addresses), entered right after its header, with its
// data at DataBase and a page of bss.
func TestMultibootProbeLoads(t *testing.T) {
	img, err := MultibootProbe(0x40)
	if err != nil {
		t.Fatal(err)
	}
	if !guest.IsMultiboot(img) || guest.IsBzImage(img) {
		t.Fatal("not recognised as a multiboot kernel")
	}
	mb, err := guest.ParseMultiboot("probe", img)
	if err != nil {
		t.Fatal(err)
	}
	s := mb.Segments[0]
	if mb.Entry != CodeBase+mbHeaderLen || len(mb.Segments) != 1 || s.Paddr != CodeBase ||
		uint64(len(s.FileData)) != uint64(len(img)) || s.Memsz != uint64(len(img))+0x1000 {
		t.Fatalf("entry %#x, segment [%#x, +%#x) with %d file bytes", mb.Entry, s.Paddr, s.Memsz, len(s.FileData))
	}
	if _, err := guest.NewMultibootPlan(mb, guest.MultibootConfig{MemBytes: 16 << 20, Cmdline: "x", VCPUs: 2}); err != nil {
		t.Fatal(err)
	}
}

func TestMultibootPokerAssembles(t *testing.T) {
	img, err := MultibootPoker()
	if err != nil {
		t.Fatal(err)
	}
	if len(img) < mbHeaderLen || binary.LittleEndian.Uint32(img) != mbMagic {
		t.Fatalf("no multiboot header")
	}
}
