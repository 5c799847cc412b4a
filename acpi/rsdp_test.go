package acpi

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestFindRSDP(t *testing.T) {
	cases := []struct {
		name  string
		base  uint64 // where the Builder puts the RSDP
		hint  func(l Layout) uint64
		prep  func(t *testing.T, m Segments, l Layout)
		want  func(l Layout) uint64 // the RSDP address found
		err   error
		acpi1 bool
	}{
		{name: "loader hint", base: highBase, hint: rsdpOf, want: rsdpOf},
		{name: "EBDA scan", base: testEBDA + 0x40, want: rsdpOf},
		{name: "BIOS ROM scan", base: 0xF59E0, want: rsdpOf},
		{name: "BIOS ROM scan ACPI 1.0", base: 0xE0000, acpi1: true, want: rsdpOf},
		{name: "hint bad falls back to scan", base: 0xF0000, hint: func(Layout) uint64 { return 0xF0010 }, want: rsdpOf},
		{name: "hint outside memory falls back to scan", base: 0xF0000, hint: func(Layout) uint64 { return 1 << 44 }, want: rsdpOf},
		{name: "nothing anywhere", base: highBase, prep: func(t *testing.T, m Segments, l Layout) {
			copy(at(t, m, l.RSDP, 8), "RSD PTX ")
		}, err: ErrNoRSDP},
		{name: "EBDA beyond its first KiB not scanned", base: testEBDA + 0x400, err: ErrNoRSDP},
		{name: "not 16-byte aligned not scanned", base: 0xE0000, prep: func(t *testing.T, m Segments, l Layout) {
			copy(at(t, m, 0xE0008, rsdpV2Len), at(t, m, 0xE0000, rsdpV2Len))
			at(t, m, 0xE0000, 1)[0] = 0
		}, err: ErrNoRSDP},
		{name: "hint with bad checksum and nothing else", base: highBase, hint: rsdpOf, prep: func(t *testing.T, m Segments, l Layout) {
			at(t, m, l.RSDP+rsdpRSDTOff, 1)[0]++
		}, err: ErrRSDPChecksum},
		{name: "extended length below 36", base: 0xE0000, prep: func(t *testing.T, m Segments, l Layout) {
			binary.LittleEndian.PutUint32(at(t, m, l.RSDP+rsdpLengthOff, 4), 20)
			fixRSDP(t, m, l.RSDP)
		}, err: ErrRSDPChecksum},
		{name: "no EBDA pointer", base: 0xE0000, prep: func(t *testing.T, m Segments, l Layout) {
			binary.LittleEndian.PutUint16(at(t, m, ebdaPointer, 2), 0)
		}, want: rsdpOf},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, lay, err := (&Builder{Base: tc.base, ACPI1: tc.acpi1}).Build()
			if err != nil {
				t.Fatal(err)
			}
			mem := newMem(t, tc.base, img)
			if tc.prep != nil {
				tc.prep(t, mem, lay)
			}
			var hint uint64
			if tc.hint != nil {
				hint = tc.hint(lay)
			}
			r, err := FindRSDP(mem, hint)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && r.Addr != tc.want(lay) {
				t.Fatalf("RSDP at %#x, want %#x", r.Addr, tc.want(lay))
			}
			if err == nil && r.UsesXSDT() == tc.acpi1 {
				t.Fatalf("UsesXSDT %v with ACPI1 %v", r.UsesXSDT(), tc.acpi1)
			}
		})
	}
}

func rsdpOf(l Layout) uint64 { return l.RSDP }

func TestFindTable(t *testing.T) {
	b := qemuShape(2)
	b.FADT = &FADT{BootArch: 2, Flags: 1 << 20, DSDT: 0x1234}
	ssdt := NewTable("SSDT", 2, "", []byte{1})
	ssdt2 := NewTable("SSDT", 2, "", []byte{2})
	b.ExtraTables = [][]byte{ssdt, ssdt2}
	mem, lay := build(t, b)
	rsdp, err := FindRSDP(mem, 0)
	if err == nil {
		t.Fatalf("scan found an RSDP above 1 MiB at %#x", rsdp.Addr)
	}
	rsdp, err = FindRSDP(mem, lay.RSDP)
	if err != nil {
		t.Fatal(err)
	}
	fadt, err := FindTable(mem, rsdp, [4]byte([]byte("FACP")), 0)
	if err != nil || fadt.Addr != lay.FADT || len(fadt.Data) != fadtLen || fadt.Revision() != fadtRevision {
		t.Fatalf("FADT %#x (%d bytes, rev %d) err %v; want %#x", fadt.Addr, len(fadt.Data), fadt.Revision(), err, lay.FADT)
	}
	if f := binary.LittleEndian.Uint32(fadt.Data[fadtFlagsOff:]); f != 1<<20 {
		t.Errorf("FADT flags %#x", f)
	}
	for i, want := range []byte{1, 2} {
		s, err := FindTable(mem, rsdp, [4]byte([]byte("SSDT")), i)
		if err != nil || s.Body()[0] != want || s.Addr != lay.Extra[i] {
			t.Errorf("SSDT %d: %v body %v at %#x", i, err, s.Body(), s.Addr)
		}
	}
	if _, err := FindTable(mem, rsdp, [4]byte([]byte("SSDT")), 2); err != ErrNoTable {
		t.Errorf("third SSDT: %v, want %v", err, ErrNoTable)
	}
	at(t, mem, lay.FADT+fadtFlagsOff, 1)[0]++
	if _, err := FindTable(mem, rsdp, [4]byte([]byte("FACP")), 0); err != ErrFADTChecksum {
		t.Errorf("corrupt FADT: %v, want %v", err, ErrFADTChecksum)
	}
	if _, err := FindTable(mem, rsdp, [4]byte([]byte("HPET")), 0); err != ErrNoTable {
		t.Errorf("HPET: %v, want %v", err, ErrNoTable)
	}
}

func TestBuilderRejects(t *testing.T) {
	for _, b := range []Builder{{Base: 8}, {Base: 1<<32 - 16, ACPI1: true}} {
		if _, _, err := b.Build(); err == nil {
			t.Errorf("Build with base %#x ACPI1 %v: no error", b.Base, b.ACPI1)
		}
	}
}
