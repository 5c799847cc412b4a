package kernel

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// fakeMem is sparse physical memory: byte segments keyed by base address.
// A read must lie wholly inside one segment.
type fakeMem map[uint64][]byte

func (m fakeMem) read(addr, n uint64) []byte {
	for base, b := range m {
		if addr >= base && addr-base <= uint64(len(b)) && n <= uint64(len(b))-(addr-base) {
			off := addr - base
			return b[off : off+n : off+n]
		}
	}
	return nil
}

// bootBase is where built boot structures live; the info struct comes first,
// then modules, memory map and command line, packed.
const bootBase = 0x10_0000

const mbAllFlags = 1<<2 | 1<<3 | 1<<6 // cmdline, modules, memory map

// bootSpec describes boot loader data to build, for either protocol.
type bootSpec struct {
	cmdline   string
	noCmdline bool        // PVH: cmdline_paddr = 0
	mods      [][2]uint64 // multiboot: {start, end}; PVH: {paddr, size}
	mem       []MemRegion
	entrySize uint32 // multiboot mmap entry size field; 0 means 20
}

var le = binary.LittleEndian

func buildMultiboot(s bootSpec, flags uint32) []byte {
	b := make([]byte, 88)
	le.PutUint32(b[0:], flags)
	le.PutUint32(b[20:], uint32(len(s.mods)))
	le.PutUint32(b[24:], bootBase+uint32(len(b)))
	for _, m := range s.mods {
		b = le.AppendUint32(le.AppendUint32(b, uint32(m[0])), uint32(m[1]))
		b = append(b, make([]byte, 8)...) // string, reserved
	}
	le.PutUint32(b[48:], bootBase+uint32(len(b)))
	size := s.entrySize
	if size == 0 {
		size = 20
	}
	start := len(b)
	for _, r := range s.mem {
		e := make([]byte, max(size+4, 24))
		le.PutUint32(e[0:], size)
		le.PutUint64(e[4:], r.Base)
		le.PutUint64(e[12:], r.Len)
		le.PutUint32(e[20:], r.Type)
		b = append(b, e...)
	}
	le.PutUint32(b[44:], uint32(len(b)-start))
	le.PutUint32(b[16:], bootBase+uint32(len(b)))
	return append(append(b, s.cmdline...), 0)
}

func buildPVH(s bootSpec, magic, version uint32) []byte {
	b := make([]byte, 56)
	le.PutUint32(b[0:], magic)
	le.PutUint32(b[4:], version)
	le.PutUint32(b[12:], uint32(len(s.mods)))
	le.PutUint64(b[16:], bootBase+uint64(len(b)))
	for _, m := range s.mods {
		b = le.AppendUint64(le.AppendUint64(b, m[0]), m[1])
		b = append(b, make([]byte, 16)...) // cmdline_paddr, reserved
	}
	le.PutUint64(b[40:], bootBase+uint64(len(b)))
	le.PutUint32(b[48:], uint32(len(s.mem)))
	for _, r := range s.mem {
		b = le.AppendUint64(le.AppendUint64(b, r.Base), r.Len)
		b = le.AppendUint32(le.AppendUint32(b, r.Type), 0)
	}
	if !s.noCmdline {
		le.PutUint64(b[24:], bootBase+uint64(len(b)))
		b = append(append(b, s.cmdline...), 0)
	}
	return b
}

// put32 and put64 return mutations that overwrite a field of the info struct.
func put32(off int, v uint32) func([]byte) { return func(b []byte) { le.PutUint32(b[off:], v) } }
func put64(off int, v uint64) func([]byte) { return func(b []byte) { le.PutUint64(b[off:], v) } }

// typicalMem is a PC-like memory map: low RAM, a hole, RAM above 1 MiB,
// ACPI tables, and a zero-length entry that must be dropped.
var typicalMem = []MemRegion{
	{0, 0x9fc00, memUsable},
	{0x9fc00, 0x400, memReserved},
	{0x10_0000, 0x1ff0_0000, memUsable},
	{0x1fff_0000, 0, memUsable},
	{0x2000_0000, 0x10000, memACPI},
}

func manyRegions(n int) []MemRegion {
	out := make([]MemRegion, n)
	for i := range out {
		out[i] = MemRegion{uint64(i) << 20, 0x1000, memUsable}
	}
	return out
}

func manyMods(n int) [][2]uint64 {
	out := make([][2]uint64, n)
	for i := range out {
		out[i] = [2]uint64{uint64(i+1) << 20, uint64(i+1)<<20 + 0x800}
	}
	return out
}

var longCmdline = "/boot/grove " + strings.Repeat("x", maxCmdline+100)

// bootSeeds are the specs both parsers are tested and fuzzed with.
var bootSeeds = map[string]bootSpec{
	"typical":  {cmdline: "/boot/grove console=ttyS0 quiet", mods: [][2]uint64{{0x200000, 0x201234}, {0x300000, 0x300000}}, mem: typicalMem},
	"path":     {cmdline: "/boot/grove", mem: typicalMem[:1]},
	"spaces":   {cmdline: "./grove   a  b ", mem: typicalMem[:1]},
	"leading":  {cmdline: " /a b", mem: typicalMem[:1]},
	"grub":     {cmdline: "console=ttyS0 quiet", mem: typicalMem[:1]},
	"word":     {cmdline: "quiet /x", mem: typicalMem[:1]},
	"key path": {cmdline: "root=/dev/vda x", mem: typicalMem[:1]},
	"empty":    {mem: typicalMem[:1]},
	"no mem":   {cmdline: "k x"},
	"big":      {cmdline: longCmdline, mods: manyMods(maxModules + 3), mem: manyRegions(maxMemRegions + 5)},
	"overflow": {cmdline: "k", mem: []MemRegion{{^uint64(0) - 10, 20, memUsable}, {0x1000, 0x1000, memUsable}}},
}

// checkBootInfo checks what must hold for any input: fixed-size limits,
// no empty or wrapping regions, multiboot modules below 4 GiB.
func checkBootInfo(t *testing.T, b *BootInfo, multiboot bool) {
	t.Helper()
	if b.NMem < 0 || b.NMem > maxMemRegions || b.NMods < 0 || b.NMods > maxModules ||
		b.cmdlineLen < 0 || b.cmdlineLen > maxCmdline {
		t.Fatalf("limits broken: NMem %d NMods %d cmdlineLen %d", b.NMem, b.NMods, b.cmdlineLen)
	}
	for _, r := range b.Mem[:b.NMem] {
		if r.Len == 0 || r.Base+r.Len < r.Base {
			t.Fatalf("region %+v is empty or wraps", r)
		}
	}
	if multiboot {
		for _, m := range b.Mods[:b.NMods] {
			if m.Base+m.Len > 1<<32 {
				t.Fatalf("multiboot module %+v ends above 4 GiB", m)
			}
		}
	}
}

// mb2Opts says which optional tags buildMultiboot2 writes.
type mb2Opts struct {
	noMmap   bool   // leave out the type-6 memory map
	efiMmap  []byte // EFI_MEMORY_DESCRIPTORs for a type-17 tag, nil for none
	efiDSize uint32 // descriptor_size of the type-17 tag
	rsdpOld  []byte // type-14 body, nil for none
	rsdpNew  []byte // type-15 body, nil for none; written after rsdpOld
	noEnd    bool   // leave out the end tag
}

// mb2ModString is the string buildMultiboot2 gives module i.
func mb2ModString(i int) string { return fmt.Sprintf("/boot/mod%d arg%d", i, i) }

// buildMultiboot2 lays out a Multiboot2 boot information structure the
// way GRUB does: total_size, reserved, then 8-byte aligned tags.
func buildMultiboot2(s bootSpec, o mb2Opts) []byte {
	b := make([]byte, 8)
	tag := func(typ uint32, body []byte) {
		b = le.AppendUint32(le.AppendUint32(b, typ), uint32(8+len(body)))
		b = append(b, body...)
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
	}
	tag(mb2TagCmdline, append([]byte(s.cmdline), 0))
	for i, m := range s.mods {
		body := le.AppendUint32(le.AppendUint32(nil, uint32(m[0])), uint32(m[1]))
		tag(mb2TagModule, append(append(body, mb2ModString(i)...), 0))
	}
	if !o.noMmap {
		body := le.AppendUint32(le.AppendUint32(nil, 24), 0) // entry_size, entry_version
		for _, r := range s.mem {
			body = le.AppendUint64(le.AppendUint64(body, r.Base), r.Len)
			body = le.AppendUint32(le.AppendUint32(body, r.Type), 0)
		}
		tag(mb2TagMmap, body)
	}
	if o.efiMmap != nil {
		tag(mb2TagEFIMmap, append(le.AppendUint32(le.AppendUint32(nil, o.efiDSize), 1), o.efiMmap...))
	}
	if o.rsdpOld != nil {
		tag(mb2TagACPIOld, o.rsdpOld)
	}
	if o.rsdpNew != nil {
		tag(mb2TagACPINew, o.rsdpNew)
	}
	if !o.noEnd {
		tag(mb2TagEnd, nil)
	}
	le.PutUint32(b, uint32(len(b)))
	return b
}

// efiDesc is one EFI_MEMORY_DESCRIPTOR of size bytes (UEFI 2.10 §7.2.3).
func efiDesc(size int, typ uint32, start, pages uint64) []byte {
	d := make([]byte, size)
	le.PutUint32(d, typ)
	le.PutUint64(d[8:], start)
	le.PutUint64(d[16:], start) // VirtualStart: unused
	le.PutUint64(d[24:], pages)
	le.PutUint64(d[32:], 0xf) // Attribute: UC|WC|WT|WB
	return d
}

// testRSDP returns an RSDP-shaped body of n bytes with recognisable contents.
func testRSDP(n int, rev byte) []byte {
	b := make([]byte, n)
	copy(b, "RSD PTR ")
	b[15] = rev
	for i := 16; i < n; i++ {
		b[i] = byte(i)
	}
	return b
}
