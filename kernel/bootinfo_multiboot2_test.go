package kernel

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func parseMB2(t *testing.T, blob []byte) (*BootInfo, error) {
	t.Helper()
	b, err := parseBuilt(t, blob, "multiboot2")
	checkRSDP(t, b)
	return b, err
}

// checkRSDP: a multiboot2 RSDP is BootInfo's own copy, 20 or 36 bytes.
func checkRSDP(t *testing.T, b *BootInfo) {
	t.Helper()
	switch {
	case b.rsdpLen == 0 && b.RSDP != 0, b.rsdpLen != 0 && b.RSDP != uint64(uintptrOf(&b.rsdp)):
		t.Fatalf("RSDP %#x with %d copied bytes: want 0, or the copy's address", b.RSDP, b.rsdpLen)
	case b.rsdpLen != 0 && b.rsdpLen != rsdpV1Len && b.rsdpLen != rsdpV2Len:
		t.Fatalf("RSDP copy of %d bytes, want 20 or 36", b.rsdpLen)
	}
}

func TestBootMultiboot2ModuleStrings(t *testing.T) {
	spec := bootSeeds["big"]
	b, err := parseMB2(t, buildMultiboot2(spec, mb2Opts{}))
	if err != nil {
		t.Fatal(err)
	}
	if b.NMods != maxModules {
		t.Fatalf("NMods = %d, want %d", b.NMods, maxModules)
	}
	for i := range b.NMods {
		// The loader's file name is dropped as on the command line.
		if want := fmt.Sprintf("arg%d", i); b.Mods[i].Cmdline() != want {
			t.Errorf("module %d string %q, want %q", i, b.Mods[i].Cmdline(), want)
		}
	}
}

func TestBootMultiboot2RSDP(t *testing.T) {
	v1, v2 := testRSDP(rsdpV1Len, 0), testRSDP(rsdpV2Len, 2)
	for _, tc := range []struct {
		name     string
		old, new []byte
		want     []byte
	}{
		{"none", nil, nil, nil},
		{"old", v1, nil, v1},
		{"new", nil, v2, v2},
		{"both", v1, v2, v2},
		{"old too short", v1[:19], nil, nil},
		{"new too short", v1, v2[:35], v1},
		{"new longer", nil, append(v2, 0xee, 0xee), v2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := parseMB2(t, buildMultiboot2(bootSeeds["typical"], mb2Opts{rsdpOld: tc.old, rsdpNew: tc.new}))
			if err != nil {
				t.Fatal(err)
			}
			if got := b.rsdp[:b.rsdpLen]; !bytes.Equal(got, tc.want) || (b.RSDP != 0) != (tc.want != nil) {
				t.Errorf("RSDP %#x, copy % x; want % x", b.RSDP, got, tc.want)
			}
		})
	}
}

// A new RSDP wins over an old one in whichever order the tags come.
func TestBootMultiboot2RSDPOrder(t *testing.T) {
	blob := buildMultiboot2(bootSeeds["typical"], mb2Opts{rsdpNew: testRSDP(rsdpV2Len, 2)})
	old := buildMultiboot2(bootSpec{}, mb2Opts{noMmap: true, rsdpOld: testRSDP(rsdpV1Len, 0), noEnd: true})
	end := len(blob) - 8 // splice the old-RSDP tag in before the end tag
	blob = append(append(append([]byte(nil), blob[:end]...), old[8+16:]...), blob[end:]...)
	le.PutUint32(blob, uint32(len(blob)))
	b, err := parseMB2(t, blob)
	if err != nil || b.rsdpLen != rsdpV2Len {
		t.Fatalf("err %v, RSDP copy of %d bytes, want the 36-byte new one", err, b.rsdpLen)
	}
}

func TestBootPVHRSDP(t *testing.T) {
	blob := buildPVH(bootSeeds["typical"], pvhMagic, 1)
	put64(32, 0xf_5a40)(blob)
	b, err := parseBuilt(t, blob, "pvh")
	if err != nil || b.RSDP != 0xf_5a40 {
		t.Fatalf("err %v, RSDP %#x, want rsdp_paddr 0xf5a40", err, b.RSDP)
	}
	if b, _ := parseBuilt(t, buildMultiboot(bootSeeds["typical"], mbAllFlags), "multiboot"); b.RSDP != 0 {
		t.Errorf("multiboot v1 RSDP %#x, want 0 (v1 has no ACPI tag)", b.RSDP)
	}
}

// OVMF-like EFI descriptors (48 bytes each, as OVMF reports them): loader
// and boot-services memory is free after ExitBootServices, neighbours of
// one kind merge, runtime and MMIO memory stays reserved.
var efiCases = []struct {
	typ          uint32
	start, pages uint64
}{
	{7, 0, 0xa0},                 // ConventionalMemory
	{0, 0xa0000, 0x60},           // Reserved
	{2, 0x100000, 0x100},         // LoaderData
	{7, 0x200000, 0x600},         // ConventionalMemory, merges
	{4, 0x800000, 0x10},          // BootServicesData, merges
	{10, 0x810000, 0x10},         // ACPIMemoryNVS
	{9, 0x820000, 0x2},           // ACPIReclaimMemory
	{6, 0x822000, 0x1},           // RuntimeServicesData
	{8, 0x823000, 0x1},           // UnusableMemory
	{3, 0x824000, 0x1f7dc},       // BootServicesCode
	{11, 0xffc00000, 0x400},      // MemoryMappedIO
	{14, 0x1_0000_0000, 0x10000}, // PersistentMemory
	{7, 0x2_0000_0000, 1 << 52},  // length overflows: dropped
}

var efiWant = []MemRegion{
	{0, 0xa0000, memUsable},
	{0xa0000, 0x60000, memReserved},
	{0x100000, 0x710000, memUsable},
	{0x810000, 0x10000, memNVS},
	{0x820000, 0x2000, memACPI},
	{0x822000, 0x1000, memReserved},
	{0x823000, 0x1000, memBad},
	{0x824000, 0x1f7dc000, memUsable},
	{0xffc00000, 0x400000 + 0x10000000, memReserved}, // MMIO + persistent
}

func efiMap(dsize int) []byte {
	var b []byte
	for _, d := range efiCases {
		b = append(b, efiDesc(dsize, d.typ, d.start, d.pages)...)
	}
	return b
}

func TestBootMultiboot2EFIMmap(t *testing.T) {
	for _, dsize := range []int{40, 48} {
		t.Run(fmt.Sprintf("descriptor_size=%d", dsize), func(t *testing.T) {
			spec := bootSeeds["typical"]
			b, err := parseMB2(t, buildMultiboot2(spec, mb2Opts{noMmap: true, efiMmap: efiMap(dsize), efiDSize: uint32(dsize)}))
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Mem[:b.NMem]; !slices.Equal(got, efiWant) {
				t.Errorf("Mem =\n%v\nwant\n%v", got, efiWant)
			}
		})
	}
	// With both maps, the type-6 one is used.
	spec := bootSeeds["typical"]
	b, err := parseMB2(t, buildMultiboot2(spec, mb2Opts{efiMmap: efiMap(48), efiDSize: 48}))
	if err != nil || !slices.Equal(b.Mem[:b.NMem], wantRegions(spec.mem)) {
		t.Errorf("with both maps: err %v, Mem %v, want the type-6 map %v", err, b.Mem[:b.NMem], wantRegions(spec.mem))
	}
}

func TestBootMultiboot2Errors(t *testing.T) {
	const far = 0xdead_0000
	typical := buildMultiboot2(bootSeeds["typical"], mb2Opts{})
	mmapAt := bytes.Index(typical, le.AppendUint32(le.AppendUint32(nil, mb2TagMmap), uint32(16+24*len(typicalMem))))
	for _, tc := range []struct {
		name    string
		blob    []byte
		info    uint64 // 0: bootBase
		wantErr string
	}{
		{"info out of range", typical, far, "info out of range"},
		{"truncated", typical[:len(typical)-16], 0, "out of range"},
		{"truncated in a tag header", typical[:mmapAt+4], 0, "tag out of range"},
		{"total size 0", with(typical, put32(0, 0)), 0, "without an end tag"},
		{"total size cuts the end tag", with(typical, put32(0, uint32(len(typical)-8))), 0, "without an end tag"},
		{"no end tag", buildMultiboot2(bootSeeds["typical"], mb2Opts{noEnd: true}), 0, "without an end tag"},
		{"tag past total size", with(typical, put32(12, uint32(len(typical)))), 0, "runs past"},
		{"zero-size tag", with(typical, put32(12, 0)), 0, "smaller than its header"},
		{"size-4 tag", with(typical, put32(mmapAt+4, 4)), 0, "smaller than its header"},
		{"missing mmap", buildMultiboot2(bootSeeds["typical"], mb2Opts{noMmap: true}), 0, "no memory map"},
		{"mmap entry size 16", with(typical, put32(mmapAt+8, 16)), 0, "memory map entry too small"},
		{"mmap tag too small", with(typical, put32(mmapAt+4, 12)), 0, "memory map tag too small"},
		{"efi descriptor size 32", buildMultiboot2(bootSeeds["typical"], mb2Opts{noMmap: true, efiMmap: efiMap(48), efiDSize: 32}), 0, "descriptor too small"},
		{"module ends before start", buildMultiboot2(bootSpec{mods: [][2]uint64{{0x30_0000, 0x20_0000}}, mem: typicalMem}, mb2Opts{}), 0, "ends before it starts"},
		{"module tag too small", with(buildMultiboot2(bootSpec{mods: manyMods(1), mem: typicalMem}, mb2Opts{}), put32(24+4, 12)), 0, "module tag too small"}, // after the 16-byte cmdline tag
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := uint64(bootBase)
			if tc.info != 0 {
				info = tc.info
			}
			var b BootInfo
			err := parseBootInfo(multiboot2Magic, info, fakeMem{bootBase: tc.blob}, &b)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			checkBootInfo(t, &b, true)
			checkRSDP(t, &b)
		})
	}
}

// with returns a mutated copy of b.
func with(b []byte, mutate func([]byte)) []byte {
	c := append([]byte(nil), b...)
	mutate(c)
	return c
}

func FuzzMultiboot2(f *testing.F) {
	for _, spec := range bootSeeds {
		f.Add(buildMultiboot2(spec, mb2Opts{rsdpOld: testRSDP(rsdpV1Len, 0), rsdpNew: testRSDP(rsdpV2Len, 2)}))
	}
	f.Add(buildMultiboot2(bootSeeds["typical"], mb2Opts{noMmap: true, efiMmap: efiMap(48), efiDSize: 48}))
	f.Fuzz(func(t *testing.T, blob []byte) {
		var b BootInfo
		parseMultiboot2(bootBase, fakeMem{bootBase: blob}, &b)
		checkBootInfo(t, &b, true)
		checkRSDP(t, &b)
	})
}
