package guest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	gt "grove/boot/guest/guesttest"
)

// bootInfo is what the kernel's parsePVH (kernel/bootinfo.go) reads from
// start_info; decodeStartInfo reads it the same way, from the same offsets,
// so a layout change on either side shows up here.
type bootInfo struct {
	cmdline string
	mem     []Region
	mods    []Module
}

func decodeStartInfo(mem []byte, info uint64) (*bootInfo, error) {
	le := binary.LittleEndian
	at := func(addr, n uint64) ([]byte, error) {
		if addr > uint64(len(mem)) || n > uint64(len(mem))-addr {
			return nil, fmt.Errorf("[%#x, +%d) out of range", addr, n)
		}
		return mem[addr : addr+n], nil
	}
	b, err := at(info, 56)
	if err != nil {
		return nil, err
	}
	if le.Uint32(b[0:]) != 0x336ec578 || le.Uint32(b[4:]) < 1 {
		return nil, fmt.Errorf("bad magic or version")
	}
	out := &bootInfo{}
	if p := le.Uint64(b[24:]); p != 0 {
		s, err := at(p, MaxCmdline+1)
		if err != nil {
			return nil, err
		}
		out.cmdline, _, _ = strings.Cut(string(s), "\x00")
	}
	for i := range uint64(le.Uint32(b[12:])) {
		e, err := at(le.Uint64(b[16:])+i*32, 32)
		if err != nil {
			return nil, err
		}
		out.mods = append(out.mods, Module{le.Uint64(e[0:]), le.Uint64(e[8:])})
	}
	for i := range uint64(le.Uint32(b[48:])) {
		e, err := at(le.Uint64(b[40:])+i*24, 24)
		if err != nil {
			return nil, err
		}
		out.mem = append(out.mem, Region{le.Uint64(e[0:]), le.Uint64(e[8:]), le.Uint32(e[16:])})
	}
	return out, nil
}

// boot plans img in memBytes of RAM, applies the plan to a fresh slice
// filled with junk (guest pages need not come zeroed) and decodes what
// the guest would see.
func boot(t *testing.T, img *Image, memBytes uint64, cmdline string, mods [][]byte) ([]byte, *Plan, *bootInfo) {
	t.Helper()
	p, err := NewPlan(img, memBytes, cmdline, mods)
	if err != nil {
		t.Fatal(err)
	}
	mem := bytes.Repeat([]byte{0xa5}, int(memBytes))
	if err := Apply(p, mem); err != nil {
		t.Fatal(err)
	}
	bi, err := decodeStartInfo(mem, p.StartInfo)
	if err != nil {
		t.Fatal(err)
	}
	return mem, p, bi
}

// checkLoaded verifies segments, bss and modules in mem, and that the
// guest's view matches the plan.
func checkLoaded(t *testing.T, img *Image, mem []byte, p *Plan, bi *bootInfo, cmdline string, mods [][]byte) {
	t.Helper()
	for _, s := range img.Segments {
		if !bytes.Equal(mem[s.Paddr:s.Paddr+uint64(len(s.FileData))], s.FileData) {
			t.Errorf("segment %#x: contents differ", s.Paddr)
		}
		if bss := mem[s.Paddr+uint64(len(s.FileData)) : s.End()]; slices.ContainsFunc(bss, func(b byte) bool { return b != 0 }) {
			t.Errorf("segment %#x: bss not zeroed", s.Paddr)
		}
	}
	if bi.cmdline != cmdline {
		t.Errorf("cmdline %q, want %q", bi.cmdline, cmdline)
	}
	if !slices.Equal(bi.mem, p.Memmap) || !slices.Equal(bi.mods, p.Modules) || len(bi.mods) != len(mods) {
		t.Errorf("guest sees mem %v mods %v; plan has %v %v", bi.mem, bi.mods, p.Memmap, p.Modules)
	}
	for i, m := range bi.mods {
		if m.GPA%pageSize != 0 || m.GPA < img.End() || !bytes.Equal(mem[m.GPA:m.GPA+m.Size], mods[i]) {
			t.Errorf("module %d at %#x: misplaced or wrong contents", i, m.GPA)
		}
	}
	if p.Entry != img.Entry || p.StartInfo != StartInfoGPA {
		t.Errorf("entry %#x start_info %#x", p.Entry, p.StartInfo)
	}
}

func TestPlanRoundTrip(t *testing.T) {
	img, err := ParseImage("simple", gt.Simple(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cmdline string
		mods    [][]byte
	}{
		{"", nil},
		{"role=agent period=1s", [][]byte{[]byte("first module"), {}, bytes.Repeat([]byte{7}, 5000)}},
		{strings.Repeat("x", MaxCmdline), make([][]byte, MaxModules)},
	} {
		t.Run(fmt.Sprintf("cmdline%d-mods%d", len(tc.cmdline), len(tc.mods)), func(t *testing.T) {
			const memBytes = 4 << 20
			mem, p, bi := boot(t, img, memBytes, tc.cmdline, tc.mods)
			checkLoaded(t, img, mem, p, bi, tc.cmdline, tc.mods)
			want := []Region{{0, 0x9f000, MemRAM}, {0x9f000, 0x61000, MemReserved}, {0x100000, memBytes - 0x100000, MemRAM}}
			if !slices.Equal(bi.mem, want) {
				t.Errorf("memmap %v, want %v", bi.mem, want)
			}
		})
	}
}

func TestPlanWritesDisjointAndOrdered(t *testing.T) {
	img, _ := ParseImage("simple", gt.Simple(false))
	p, err := NewPlan(img, 2<<20, "a", [][]byte{{1}, {2}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(p.Writes); i++ {
		if p.Writes[i-1].End() > p.Writes[i].GPA {
			t.Errorf("write %d [%#x, %#x) runs into write %d at %#x", i-1, p.Writes[i-1].GPA, p.Writes[i-1].End(), i, p.Writes[i].GPA)
		}
	}
}

func TestPlanRefuses(t *testing.T) {
	img, _ := ParseImage("guests/web.elf", gt.Simple(true)) // ends at 0x112000
	low, _ := ParseImage("guests/low.elf", gt.ELF(gt.Spec{Notes: []gt.Note{gt.PVHNote(0x8000)},
		Segments: []gt.Segment{{Paddr: 0x8000, Data: make([]byte, 16)}}}))
	for _, tc := range []struct {
		name    string
		img     *Image
		mem     uint64
		cmdline string
		mods    [][]byte
		want    string
	}{
		{"mem-below-image", img, 1 << 20, "", nil, "guests/web.elf: needs at least 2 MiB of guest RAM, has 1 MiB"},
		{"mem-odd", img, 0x111000, "", nil, "needs at least 2 MiB of guest RAM, has 1 MiB (+69632 bytes)"},
		{"mem-modules", img, 2 << 20, "", [][]byte{make([]byte, 3<<20)}, "needs at least 5 MiB of guest RAM, has 2 MiB"},
		{"cmdline-long", img, 2 << 20, strings.Repeat("a", 1024), nil, "command line is 1024 bytes, at most 1023"},
		{"cmdline-nul", img, 2 << 20, "a\x00b", nil, "NUL"},
		{"modules", img, 64 << 20, "", make([][]byte, 17), "17 modules, at most 16"},
		{"low-segment", low, 2 << 20, "", nil, "guests/low.elf: segment at 0x8000 is below 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPlan(tc.img, tc.mem, tc.cmdline, tc.mods)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestApplyOutOfRange(t *testing.T) {
	img, _ := ParseImage("simple", gt.Simple(true))
	p, err := NewPlan(img, 2<<20, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(p, make([]byte, 0x111000)); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("short RAM: %v", err)
	}
	bad := &Plan{Writes: []Write{{GPA: 10, Data: []byte{1}, Zero: ^uint64(0)}}}
	if err := Apply(bad, make([]byte, 64)); err == nil {
		t.Error("wrapping zero length accepted")
	}
}
