package paging

import (
	"encoding/binary"
	"fmt"
	"testing"

	"grove/x86"
)

// guest is a guest's RAM with hand-built tables in it.
type guest struct{ r *ram }

func newGuest(pages int) guest { return guest{newRAM(pages)} }

func (g guest) put32(pa, v uint64) {
	w := &g.r.words[pa/8]
	sh := pa & 4 * 8
	*w = *w&^(0xffff_ffff<<sh) | v<<sh
}

func (g guest) put64(pa, v uint64) { g.r.words[pa/8] = v }

type translation struct {
	va   uint64
	pa   uint64
	ok   bool
	note string
}

func checkTranslate(t *testing.T, g guest, regs Regs, cases []translation) {
	t.Helper()
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/va=%#x", tc.note, tc.va), func(t *testing.T) {
			pa, ok := Translate(regs, g.r, tc.va)
			if ok != tc.ok || (ok && pa != tc.pa) {
				t.Fatalf("Translate = %#x, %v; want %#x, %v", pa, ok, tc.pa, tc.ok)
			}
		})
	}
}

const (
	pg  = x86.CR0PG | x86.CR0PE
	lma = x86.EFERLME | x86.EFERLMA
)

func TestTranslateNoPaging(t *testing.T) {
	checkTranslate(t, newGuest(1), Regs{CR0: x86.CR0PE, CR3: 0xdead_0000, EFER: x86.EFERLME}, []translation{
		{0x1234, 0x1234, true, "identity"},
		{0x1_2345_6789, 0x2345_6789, true, "32-bit"},
	})
}

// Legacy 32-bit paging: PD at 0x1000, PT at 0x2000 (4-byte entries).
func legacyGuest() guest {
	g := newGuest(8)
	g.put32(0x1000+0*4, 0x2000|P)
	g.put32(0x1000+1*4, 0x0040_0000|P|PS)               // 4 MiB page at 4 MiB
	g.put32(0x1000+2*4, 0x00c0_0000|P|PS|3<<pse36Shift) // PSE-36: PA bits 33:32 = 3
	g.put32(0x1000+3*4, 0x0080_0000|PS)                 // not present
	g.put32(0x1000+4*4, 0x7f00_0000|P)                  // table outside RAM
	g.put32(0x1000+1023*4, 0x3000|P|RW|US)              // top 4 MiB
	g.put32(0x2000+4*4, 0x5000|P)                       // even: low half
	g.put32(0x2000+5*4, 0x6000|P|US)                    // odd: high half
	g.put32(0x3000+1023*4, 0x7000|P)
	return g
}

func TestTranslateLegacy(t *testing.T) {
	g := legacyGuest()
	common := []translation{
		{0x4abc, 0x5abc, true, "4K-even"},
		{0x5abc, 0x6abc, true, "4K-odd"},
		{0x1_0000_5abc, 0x6abc, true, "truncated"},
		{0x6000, 0, false, "pte-not-present"},
		{0xc0_0000, 0, false, "pde-not-present"},
		{0x100_0000, 0, false, "table-outside-ram"},
		{0xffff_f123, 0x7123, true, "top"},
	}
	t.Run("PSE", func(t *testing.T) {
		checkTranslate(t, g, Regs{CR0: pg, CR3: 0x1000 | PWT, CR4: x86.CR4PSE}, append(common,
			translation{0x41_2345, 0x41_2345, true, "4M"},
			translation{0x80_0010, 0x3_00c0_0010, true, "4M-PSE36"}))
	})
	t.Run("noPSE", func(t *testing.T) {
		// Without CR4.PSE the PS bit is ignored: the PDE points to a
		// table at 4 MiB, outside this guest's RAM.
		checkTranslate(t, g, Regs{CR0: pg, CR3: 0x1000}, append(common,
			translation{0x41_2345, 0, false, "PS-ignored"}))
	})
}

// PAE: the PDPT is 32 bytes at 0x1020 (CR3 bits 31:5), PDs at 0x2000 and
// 0x3000, a PT at 0x4000 (8-byte entries).
func TestTranslatePAE(t *testing.T) {
	g := newGuest(16)
	g.put64(0x1020+0*8, 0x2000|P)
	g.put64(0x1020+3*8, 0x3000|P)
	g.put64(0x2000+0*8, 0x4000|P|RW)
	g.put64(0x2000+1*8, 0x60_0000|P|PS|NX) // 2 MiB page at 6 MiB
	g.put64(0x2000+2*8, 0x7_0000_0000|P)   // table outside RAM
	g.put64(0x4000+1*8, 0x9000|P|NX)
	g.put64(0x3000+511*8, 0xa000|P)
	g.put64(0xa000+511*8, 0xb000|P)
	checkTranslate(t, g, Regs{CR0: pg, CR3: 0x1020, CR4: x86.CR4PAE | x86.CR4PSE}, []translation{
		{0x1abc, 0x9abc, true, "4K"},
		{0x1_0000_1abc, 0x9abc, true, "truncated"},
		{0x2abc, 0, false, "pte-not-present"},
		{0x21_2345, 0x61_2345, true, "2M"},
		{0x40_0000, 0, false, "table-outside-ram"},
		{0x4000_0000, 0, false, "pdpte-not-present"},
		{0xffff_fabc, 0xbabc, true, "top"},
	})
}

// Long mode: PML4 at 0x1000; low half PDPT 0x2000, PD 0x3000, PT 0x4000;
// upper half PDPT 0x5000.
func TestTranslateLongMode(t *testing.T) {
	g := newGuest(8)
	g.put64(0x1000+0*8, 0x2000|P|RW|US)
	g.put64(0x1000+1*8, 0x10_0000_0000|P) // table outside RAM
	g.put64(0x1000+511*8, 0x5000|P)
	g.put64(0x2000+0*8, 0x3000|P)
	g.put64(0x2000+1*8, 0x1_4000_0000|P|PS|NX) // 1 GiB page
	g.put64(0x3000+0*8, 0x4000|P)
	g.put64(0x3000+1*8, 0x60_0000|P|PS|1<<12) // 2 MiB page; bit 12 is PAT
	g.put64(0x4000+2*8, 0xa000|P|NX)
	g.put64(0x5000+511*8, 0x8000_0000|P|PS)
	regs := Regs{CR0: pg, CR3: 0x1000 | PCD | PWT, CR4: x86.CR4PAE, EFER: lma}
	checkTranslate(t, g, regs, []translation{
		{0x2abc, 0xaabc, true, "4K"},
		{0x3abc, 0, false, "pte-not-present"},
		{0x21_2345, 0x61_2345, true, "2M"},
		{0x4123_4567, 0x1_4123_4567, true, "1G"},
		{0x8000_0000, 0, false, "pdpte-not-present"},
		{0x80_0000_0000, 0, false, "table-outside-ram"},
		{0x100_0000_0000, 0, false, "pml4e-not-present"},
		{0xffff_ffff_c000_1234, 0x8000_1234, true, "upper-half"},
		{0x0000_ffff_c000_1234, 0, false, "non-canonical"},
	})
	regs.CR4 |= x86.CR4LA57
	checkTranslate(t, g, regs, []translation{{0x2abc, 0, false, "LA57-refused"}})
	checkTranslate(t, g, Regs{CR0: pg, CR3: 0x10_0000_0000, CR4: x86.CR4PAE, EFER: lma},
		[]translation{{0x2abc, 0, false, "CR3-outside-ram"}})
}

// FuzzTranslate feeds random control registers, addresses and table
// contents: the walk must never panic, read past the guest's RAM (ram's
// bounds checks would panic) or take more steps than there are levels.
func FuzzTranslate(f *testing.F) {
	f.Add(uint64(pg), uint64(0x1000), uint64(x86.CR4PAE), uint64(lma), uint64(0x2abc), []byte{0x01, 0x20})
	f.Add(uint64(pg), uint64(0x1020), uint64(x86.CR4PAE), uint64(0), uint64(0xffff_f000), []byte{0x01, 0x20, 0, 0, 0, 0, 0, 0})
	f.Add(uint64(pg), uint64(0x1000), uint64(x86.CR4PSE), uint64(0), uint64(0x41_2345), []byte{0x83, 0, 0x40, 0})
	f.Fuzz(func(t *testing.T, cr0, cr3, cr4, efer, va uint64, mem []byte) {
		g := newGuest(4)
		// The table bytes go to every page, so any in-RAM address walks them.
		for pa := uint64(0); pa+8 <= 4*PageSize && len(mem) > 0; pa += 8 {
			off := int(pa % PageSize % uint64(len(mem)))
			var b [8]byte
			copy(b[:], mem[off:])
			g.put64(pa, binary.LittleEndian.Uint64(b[:]))
		}
		pa, ok := Translate(Regs{cr0, cr3, cr4, efer}, g.r, va)
		if g.r.tables > 4 {
			t.Fatalf("%d table reads for one walk", g.r.tables)
		}
		if ok && cr0&x86.CR0PG != 0 && pa%PageSize != va%PageSize {
			t.Fatalf("Translate(%#x) = %#x: page offset changed", va, pa)
		}
		if ok && cr0&x86.CR0PG == 0 && pa != va&0xffff_ffff {
			t.Fatalf("Translate(%#x) without paging = %#x", va, pa)
		}
	})
}
