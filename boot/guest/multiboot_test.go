package guest

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	gt "grove/boot/guest/guesttest"
)

func TestIsMultiboot(t *testing.T) {
	shifted := append(make([]byte, 8192-12), gt.MultibootHeader(0)...)
	for _, tc := range []struct {
		name string
		data []byte
		want bool
	}{
		{"elf", gt.MultibootELF(0x400000), true},
		{"aout", gt.MultibootAoutImage(0x100000), true},
		{"last-slot", shifted, true},
		{"past-8k", append([]byte{0, 0, 0, 0}, shifted...), false},
		{"unaligned", append([]byte{0}, gt.MultibootHeader(0)...), false},
		{"bad-checksum", append(gt.MultibootHeader(0)[:8], 1, 2, 3, 4), false},
		{"pvh", gt.Simple(false), false},
		{"bzimage", gt.BzImage(), false},
		{"empty", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsMultiboot(tc.data); got != tc.want {
				t.Errorf("IsMultiboot = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseMultiboot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  []byte
		entry uint32
		segs  []Segment // FileData compared by length
	}{
		{"elf", gt.MultibootELF(0x400000), 0x40000c, []Segment{{Paddr: 0x400000, Memsz: 64}, {Paddr: 0x410000, Memsz: 0x3000}}},
		{"aout", gt.MultibootAoutImage(0x100000), 0x100020, []Segment{{Paddr: 0x100000, Memsz: 0x2000}}},
		{"aout-to-eof", append(gt.MultibootHeader(gt.MultibootAout, 0x200000, 0x200000, 0, 0, 0x200010), make([]byte, 100)...),
			0x200010, []Segment{{Paddr: 0x200000, Memsz: 132}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := ParseMultiboot(tc.name, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if img.Entry != tc.entry || len(img.Segments) != len(tc.segs) {
				t.Fatalf("entry %#x, %d segments; want %#x, %d", img.Entry, len(img.Segments), tc.entry, len(tc.segs))
			}
			for i, s := range img.Segments {
				if s.Paddr != tc.segs[i].Paddr || s.Memsz != tc.segs[i].Memsz || uint64(len(s.FileData)) > s.Memsz {
					t.Errorf("segment %d: [%#x, +%#x) with %d file bytes, want [%#x, +%#x)",
						i, s.Paddr, s.Memsz, len(s.FileData), tc.segs[i].Paddr, tc.segs[i].Memsz)
				}
			}
		})
	}
}

func TestParseMultibootRefusals(t *testing.T) {
	aout := func(addr ...uint32) []byte {
		return append(gt.MultibootHeader(gt.MultibootAout, addr...), make([]byte, 0x100)...)
	}
	overlap := gt.ELF(gt.Spec{Segments: []gt.Segment{
		{Paddr: 0x100000, Data: append(gt.MultibootHeader(0), make([]byte, 52)...)},
		{Paddr: 0x100020, Data: make([]byte, 16)},
	}})
	elf64 := gt.ELF(gt.Spec{Class64: true, Segments: []gt.Segment{{Paddr: 0x100000, Data: gt.MultibootHeader(0)}}})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"no-header", gt.Simple(false), "no header (magic 0x1BADB002"},
		{"bad-checksum", append(gt.MultibootHeader(0)[:8], 1, 2, 3, 4), "no header"},
		{"video", append(gt.MultibootHeader(1<<2), make([]byte, 64)...), "video mode (flag 2)"},
		{"unknown-required", append(gt.MultibootHeader(1<<5), make([]byte, 64)...), "does not know (flags 0x20)"},
		{"aout-cut", gt.MultibootHeader(gt.MultibootAout, 1, 2), "cut short: no address fields"},
		{"aout-header-before-load", aout(0x100000, 0x200000, 0, 0, 0x200000), "before the file's start"},
		{"aout-load-before-file", aout(0x100040, 0x100000, 0, 0, 0x100000), "before the file's start"},
		{"aout-end-not-above", aout(0x100000, 0x100000, 0x100000, 0, 0x100000), "load_end_addr 0x100000 is not above"},
		{"aout-past-eof", aout(0x100000, 0x100000, 0x200000, 0, 0x100000), "runs past the end"},
		{"aout-bss-below", aout(0x100000, 0x100000, 0x100080, 0x100040, 0x100000), "bss_end_addr 0x100040 is below"},
		{"aout-entry-outside", aout(0x100000, 0x100000, 0, 0, 0x900000), "entry 0x900000 is outside"},
		{"not-elf", append(gt.MultibootHeader(0), make([]byte, 64)...), "not ELF"},
		{"elf64", elf64, "ELF32 i386 images, this is ELFCLASS64"},
		{"elf-overlap", overlap, "overlap"},
		{"elf-entry-outside", gt.ELF(gt.Spec{Entry: 0x50, Segments: []gt.Segment{{Paddr: 0x100000, Data: gt.MultibootHeader(0)}}}), "entry 0x50 is outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMultiboot("x86/bad.flat", tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "x86/bad.flat: ") {
				t.Errorf("got %v, want x86/bad.flat: ...%q...", err, tc.want)
			}
		})
	}
}

// mbInfo is what a multiboot kernel reads from its boot information
// (kvm-unit-tests' lib/x86/setup.c reads the same fields).
type mbInfo struct {
	flags, memLower, memUpper uint32
	cmdline, loader           string
	mods                      []Module
	mmap                      []Region
}

func decodeMultibootInfo(t *testing.T, mem []byte, at uint64) mbInfo {
	t.Helper()
	le := binary.LittleEndian
	str := func(p uint32) string {
		s, _, _ := strings.Cut(string(mem[p:min(int(p)+MaxCmdline+1, len(mem))]), "\x00")
		return s
	}
	b := mem[at:]
	i := mbInfo{flags: le.Uint32(b), memLower: le.Uint32(b[4:]), memUpper: le.Uint32(b[8:]),
		cmdline: str(le.Uint32(b[16:])), loader: str(le.Uint32(b[64:]))}
	for n, p := le.Uint32(b[20:]), le.Uint32(b[24:]); n > 0; n, p = n-1, p+16 {
		e := mem[p:]
		if s := str(le.Uint32(e[8:])); s != "" {
			t.Errorf("module string %q, want empty", s)
		}
		i.mods = append(i.mods, Module{uint64(le.Uint32(e)), uint64(le.Uint32(e[4:]) - le.Uint32(e))})
	}
	for p, end := le.Uint32(b[48:]), le.Uint32(b[48:])+le.Uint32(b[44:]); p < end; p += le.Uint32(mem[p:]) + 4 {
		e := mem[p+4:]
		i.mmap = append(i.mmap, Region{le.Uint64(e), le.Uint64(e[8:]), le.Uint32(e[16:])})
	}
	return i
}

func TestMultibootPlan(t *testing.T) {
	const memBytes = 16 << 20
	low, err := ParseMultiboot("realmode.flat", gt.MultibootAoutImage(0x8000))
	if err != nil {
		t.Fatal(err)
	}
	high, err := ParseMultiboot("x86/vmexit.flat", gt.MultibootELF(0x400000))
	if err != nil {
		t.Fatal(err)
	}
	mods := [][]byte{[]byte("NR_CPUS=2\n"), bytes.Repeat([]byte{9}, 5000)}
	for _, tc := range []struct {
		name    string
		img     *MultibootImage
		argv0   string
		cmdline string
		mods    [][]byte
		want    string
	}{
		{"low-no-args", low, "", "", nil, "realmode.flat"},
		{"high-args-modules", high, "", "cpuid  ipi", mods, "x86/vmexit.flat cpuid  ipi"},
		{"argv0", high, "vmexit-1", "cpuid", nil, "vmexit-1 cpuid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewMultibootPlan(tc.img, MultibootConfig{MemBytes: memBytes, Cmdline: tc.cmdline, Argv0: tc.argv0,
				Modules: tc.mods, VCPUs: 2})
			if err != nil {
				t.Fatal(err)
			}
			mem := bytes.Repeat([]byte{0xa5}, memBytes)
			if err := Apply(p, mem); err != nil {
				t.Fatal(err)
			}
			checkMultiboot(t, tc.img, p, mem, tc.want, tc.mods)
		})
	}
}

func checkMultiboot(t *testing.T, img *MultibootImage, p *Plan, mem []byte, cmdline string, mods [][]byte) {
	t.Helper()
	if p.Entry != img.Entry || p.StartReg != StartMultiboot || p.StartInfo != 0x6000 {
		t.Errorf("entry %#x reg %v info %#x", p.Entry, p.StartReg, p.StartInfo)
	}
	i := decodeMultibootInfo(t, mem, p.StartInfo)
	if i.flags != 1|1<<2|1<<3|1<<6|1<<9 || i.memLower != 636 || uint64(i.memUpper) != (p.MemBytes-1<<20)>>10 {
		t.Errorf("flags %#x mem_lower %d mem_upper %d", i.flags, i.memLower, i.memUpper)
	}
	if i.cmdline != cmdline || i.loader != "Grove" {
		t.Errorf("cmdline %q loader %q, want %q", i.cmdline, i.loader, cmdline)
	}
	want := []Region{{0, 0x9f000, MemRAM}, {0x9f000, 0x61000, MemReserved}, {0x100000, p.MemBytes - 1<<20, MemRAM}}
	if len(i.mmap) != 3 || i.mmap[0] != want[0] || i.mmap[1] != want[1] || i.mmap[2] != want[2] {
		t.Errorf("mmap %v, want %v", i.mmap, want)
	}
	if len(i.mods) != len(mods) {
		t.Fatalf("%d modules, want %d", len(i.mods), len(mods))
	}
	for n, m := range i.mods {
		if m.GPA%pageSize != 0 || m.GPA < max(img.End(), 1<<20) || !bytes.Equal(mem[m.GPA:m.GPA+m.Size], mods[n]) {
			t.Errorf("module %d at %#x+%#x: misplaced or wrong", n, m.GPA, m.Size)
		}
	}
	for _, s := range img.Segments {
		if !bytes.Equal(mem[s.Paddr:s.Paddr+uint64(len(s.FileData))], s.FileData) ||
			slices.ContainsFunc(mem[s.Paddr+uint64(len(s.FileData)):s.End()], func(b byte) bool { return b != 0 }) {
			t.Errorf("segment %#x: contents or bss wrong", s.Paddr)
		}
	}
	if !bytes.Equal(mem[0xe0080:0xe0088], []byte("RSD PTR ")) {
		t.Errorf("no RSDP at 0xe0080 for an RSDP scan of 0xe0000-0xfffff")
	}
	for n := 1; n < len(p.Writes); n++ {
		if p.Writes[n-1].End() > p.Writes[n].GPA {
			t.Errorf("writes %d and %d overlap or are out of order", n-1, n)
		}
	}
}

func TestMultibootPlanRefusals(t *testing.T) {
	img := func(load uint32) *MultibootImage {
		i, err := ParseMultiboot("x86/t.flat", gt.MultibootAoutImage(load))
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	for _, tc := range []struct {
		name string
		img  *MultibootImage
		cfg  MultibootConfig
		want string
	}{
		{"past-ram", img(0x1000000), MultibootConfig{MemBytes: 16 << 20}, "segment [0x1000000, 0x1002000) is outside the domain's 16 MiB of RAM"},
		{"on-boot-info", img(0x5000), MultibootConfig{MemBytes: 16 << 20}, "overlaps the multiboot information at [0x6000, 0x6c00)"},
		{"on-acpi", img(0xff000), MultibootConfig{MemBytes: 16 << 20}, "overlaps the ACPI tables"},
		{"modules", img(0x100000), MultibootConfig{MemBytes: 2 << 20, Modules: [][]byte{make([]byte, 1<<20)}}, "need at least 3 MiB of guest RAM, has 2 MiB"},
		{"too-many-modules", img(0x100000), MultibootConfig{MemBytes: 16 << 20, Modules: make([][]byte, 17)}, "17 modules"},
		{"cmdline", img(0x100000), MultibootConfig{MemBytes: 16 << 20, Cmdline: strings.Repeat("a", 1013)}, "with the kernel's name is 1024 bytes, at most 1023"},
		{"cmdline-nul", img(0x100000), MultibootConfig{MemBytes: 16 << 20, Cmdline: "a\x00"}, "NUL"},
		{"mem-big", img(0x100000), MultibootConfig{MemBytes: 4 << 30}, "4096 MiB of guest RAM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewMultibootPlan(tc.img, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "x86/t.flat: ") {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
