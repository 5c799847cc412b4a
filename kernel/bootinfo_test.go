package kernel

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// wantRegions is what the parsers keep of spec regions: non-empty,
// non-wrapping, at most maxMemRegions.
func wantRegions(rs []MemRegion) []MemRegion {
	var out []MemRegion
	for _, r := range rs {
		if r.Len != 0 && r.Base+r.Len >= r.Base && len(out) < maxMemRegions {
			out = append(out, r)
		}
	}
	return out
}

// wantModules is what the parsers keep of spec modules; multiboot (v1 and
// 2) give {start, end}, PVH {paddr, size}. Strings are checked apart.
func wantModules(ms [][2]uint64, multiboot bool) []Module {
	var out []Module
	for _, m := range ms[:min(len(ms), maxModules)] {
		if multiboot {
			out = append(out, Module{Base: m[0], Len: m[1] - m[0]})
		} else {
			out = append(out, Module{Base: m[0], Len: m[1]})
		}
	}
	return out
}

// bootMagics maps each protocol name to the magic the trampoline passes.
var bootMagics = map[string]uint64{"multiboot": multibootMagic, "multiboot2": multiboot2Magic, "pvh": pvhMagic}

// buildFor builds spec in proto's format (multiboot2 with every tag).
func buildFor(proto string, spec bootSpec) []byte {
	switch proto {
	case "multiboot":
		return buildMultiboot(spec, mbAllFlags)
	case "multiboot2":
		return buildMultiboot2(spec, mb2Opts{})
	}
	return buildPVH(spec, pvhMagic, 1)
}

func parseBuilt(t *testing.T, blob []byte, proto string) (*BootInfo, error) {
	t.Helper()
	out := &BootInfo{}
	err := parseBootInfo(bootMagics[proto], bootBase, fakeMem{bootBase: blob}, out)
	checkBootInfo(t, out, proto != "pvh")
	return out, err
}

func TestBootParseSeeds(t *testing.T) {
	// Multiboot (v1 and 2) drops a leading image path (a first word with
	// '/' or '.' and no '='), as QEMU passes one; PVH keeps the line.
	cmdlines := map[string][2]string{ // multiboot, PVH
		"typical":  {"console=ttyS0 quiet", "/boot/grove console=ttyS0 quiet"},
		"path":     {"", "/boot/grove"},
		"spaces":   {"a  b ", "./grove   a  b "},
		"leading":  {" /a b", " /a b"}, // empty first word: nothing to drop
		"grub":     {"console=ttyS0 quiet", "console=ttyS0 quiet"},
		"word":     {"quiet /x", "quiet /x"},
		"key path": {"root=/dev/vda x", "root=/dev/vda x"},
		"empty":    {"", ""},
		"no mem":   {"k x", "k x"},
		"big":      {longCmdline[12:maxCmdline], longCmdline[:maxCmdline]},
		"overflow": {"k", "k"},
	}
	for name, spec := range bootSeeds {
		for _, proto := range []string{"multiboot", "multiboot2", "pvh"} {
			t.Run(fmt.Sprintf("%s/%s", proto, name), func(t *testing.T) {
				mb, i := proto != "pvh", 0
				if !mb {
					i = 1
				}
				b, err := parseBuilt(t, buildFor(proto, spec), proto)
				if err != nil {
					t.Fatal(err)
				}
				if b.Protocol != proto {
					t.Errorf("Protocol = %q, want %q", b.Protocol, proto)
				}
				if want := cmdlines[name][i]; b.Cmdline() != want {
					t.Errorf("Cmdline = %q, want %q", b.Cmdline(), want)
				}
				if got, want := b.Mem[:b.NMem], wantRegions(spec.mem); !slices.Equal(got, want) {
					t.Errorf("Mem = %v, want %v", got, want)
				}
				if got, want := b.Mods[:b.NMods], wantModules(spec.mods, mb); !equalModRanges(got, want) {
					t.Errorf("Mods = %v, want %v", got, want)
				}
				if want := max(0, len(spec.mem)-maxMemRegions); b.MemDropped != want {
					t.Errorf("MemDropped = %d, want %d", b.MemDropped, want)
				}
			})
		}
	}
}

// equalModRanges compares modules by range only.
func equalModRanges(a, b []Module) bool {
	return slices.EqualFunc(a, b, func(x, y Module) bool { return x.Base == y.Base && x.Len == y.Len })
}

func TestBootMultibootEntrySize(t *testing.T) {
	for _, size := range []uint32{20, 24, 40} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			spec := bootSeeds["typical"]
			spec.entrySize = size
			b, err := parseBuilt(t, buildMultiboot(spec, mbAllFlags), "multiboot")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := b.Mem[:b.NMem], wantRegions(spec.mem); !slices.Equal(got, want) {
				t.Errorf("Mem = %v, want %v", got, want)
			}
		})
	}
}

func TestBootErrors(t *testing.T) {
	const far = 0xdead_0000
	for _, tc := range []struct {
		proto   string
		name    string
		spec    string
		mutate  func([]byte)
		tweak   func(*bootSpec)
		info    uint64 // 0: bootBase
		wantErr string
	}{
		{"multiboot", "no memory map flag", "typical", put32(0, mbAllFlags&^(1<<6)), nil, 0, "no memory map"},
		{"multiboot", "info out of range", "typical", nil, nil, far, "info out of range"},
		{"multiboot", "info past segment end", "empty", nil, nil, bootBase + 80, "info out of range"},
		{"multiboot", "module list out of range", "typical", put32(24, far), nil, 0, "module list out of range"},
		{"multiboot", "module end < start", "typical", nil, func(s *bootSpec) { s.mods = [][2]uint64{{0x30_0000, 0x20_0000}} }, 0, "ends before it starts"},
		{"multiboot", "memory map out of range", "typical", put32(48, far), nil, 0, "memory map out of range"},
		{"multiboot", "memory map length past end", "empty", put32(44, 48), nil, 0, "memory map out of range"},
		{"multiboot", "entry size 16", "typical", nil, func(s *bootSpec) { s.entrySize = 16 }, 0, "entry too small"},
		{"multiboot", "entry size 0 in 2nd", "typical", put32(88+2*16+24, 0), nil, 0, "entry too small"},
		{"pvh", "bad magic", "typical", put32(0, 0x336ec579), nil, 0, "bad magic"},
		{"pvh", "multiboot magic", "typical", put32(0, multibootMagic), nil, 0, "bad magic"},
		{"pvh", "version 0", "typical", put32(4, 0), nil, 0, "no memory map"},
		{"pvh", "memmap paddr 0", "typical", put64(40, 0), nil, 0, "no memory map"},
		{"pvh", "info out of range", "typical", nil, nil, far, "start info out of range"},
		{"pvh", "info past segment end", "empty", nil, nil, bootBase + 40, "start info out of range"},
		{"pvh", "module list out of range", "typical", put64(16, far), nil, 0, "module list out of range"},
		{"pvh", "module list wraps", "typical", put64(16, ^uint64(0)-8), nil, 0, "module list out of range"},
		{"pvh", "memory map out of range", "typical", put64(40, far), nil, 0, "memory map out of range"},
		{"pvh", "memory map count past end", "empty", put32(48, 2), nil, 0, "memory map out of range"},
		{"unknown", "bad boot magic", "typical", nil, nil, 0, "unknown boot protocol"},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.proto, tc.name), func(t *testing.T) {
			spec := bootSeeds[tc.spec]
			if tc.tweak != nil {
				tc.tweak(&spec)
			}
			magic, blob := uint64(multibootMagic), buildMultiboot(spec, mbAllFlags)
			switch tc.proto {
			case "pvh":
				magic, blob = pvhMagic, buildPVH(spec, pvhMagic, 1)
			case "unknown":
				magic = 0x1badb002
			}
			if tc.mutate != nil {
				tc.mutate(blob)
			}
			info := uint64(bootBase)
			if tc.info != 0 {
				info = tc.info
			}
			var b BootInfo
			err := parseBootInfo(magic, info, fakeMem{bootBase: blob}, &b)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			checkBootInfo(t, &b, tc.proto == "multiboot")
		})
	}
}

func TestBootMagicUpperBitsIgnored(t *testing.T) {
	blob := buildMultiboot(bootSeeds["typical"], mbAllFlags)
	var b BootInfo
	if err := parseBootInfo(0xffff_ffff<<32|multibootMagic, bootBase, fakeMem{bootBase: blob}, &b); err != nil || b.Protocol != "multiboot" {
		t.Fatalf("err %v, protocol %q", err, b.Protocol)
	}
}

// TestBootCmdlineOutOfRange documents that an unreadable command line is
// read as empty rather than refused.
func TestBootCmdlineOutOfRange(t *testing.T) {
	for _, proto := range []string{"multiboot", "pvh"} {
		t.Run(proto, func(t *testing.T) {
			blob := buildPVH(bootSeeds["typical"], pvhMagic, 1)
			put64(24, 0xdead_0000)(blob)
			if proto == "multiboot" {
				blob = buildMultiboot(bootSeeds["typical"], mbAllFlags)
				put32(16, 0xdead_0000)(blob)
			}
			b, err := parseBuilt(t, blob, proto)
			if err != nil || b.Cmdline() != "" || b.NMem != 4 {
				t.Fatalf("err %v, cmdline %q, NMem %d", err, b.Cmdline(), b.NMem)
			}
		})
	}
}

func FuzzMultiboot(f *testing.F) {
	for _, spec := range bootSeeds {
		f.Add(buildMultiboot(spec, mbAllFlags))
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		var b BootInfo
		parseMultiboot(bootBase, fakeMem{bootBase: blob}, &b)
		checkBootInfo(t, &b, true)
	})
}

func FuzzPVH(f *testing.F) {
	for _, spec := range bootSeeds {
		f.Add(buildPVH(spec, pvhMagic, 1))
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		var b BootInfo
		parsePVH(bootBase, fakeMem{bootBase: blob}, &b)
		checkBootInfo(t, &b, false)
	})
}
