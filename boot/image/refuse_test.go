package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func phdr(b []byte, i int) []byte { return b[miniPhoff+phdrSize*i:] }
func shdr(b []byte, i int) []byte { return b[miniShoff+shdrSize*i:] }

func TestRefuse(t *testing.T) {
	patched := func() []byte {
		r, err := Patch(miniELF(defaultMini), probeOpts)
		if err != nil {
			t.Fatal(err)
		}
		return r.Image
	}
	mb2Only := func() []byte {
		r, err := Patch(miniELF(defaultMini), Options{Entry: "main.entry64", PageTables: "main.bootPageTables", Protocols: Multiboot2})
		if err != nil {
			t.Fatal(err)
		}
		return r.Image
	}
	pvhOnly := func() []byte {
		r, err := Patch(miniELF(defaultMini), Options{Entry: "main.entry64", PageTables: "main.bootPageTables", Protocols: PVH})
		if err != nil {
			t.Fatal(err)
		}
		return r.Image
	}
	tests := []struct {
		name   string
		in     func() []byte
		protos Protocol
		want   error
		msg    string
	}{
		{"empty", func() []byte { return nil }, 0, ErrFormat, "shorter than an ELF header"},
		{"garbage", func() []byte { return []byte(strings.Repeat("not an elf file ", 8)) }, 0, ErrFormat, "bad magic"},
		{"elf32", mini(func(b []byte) { b[4] = 1 }), 0, ErrFormat, ""},
		{"big-endian", mini(func(b []byte) { b[5] = 2 }), 0, ErrFormat, ""},
		{"arm64", mini(func(b []byte) { le.PutUint16(b[0x12:], 183) }), 0, ErrFormat, "x86-64"},
		{"pie", mini(func(b []byte) { le.PutUint16(b[0x10:], 3) }), 0, ErrFormat, "ET_EXEC"},
		{"truncated", func() []byte { return miniELF(defaultMini)[:miniText+8] }, 0, ErrFormat, ""},
		{"missing-entry", func() []byte { return miniELF(miniSpec{"main.other", "main.bootPageTables", 8 * 4096}) }, 0, ErrSymbol, "missing symbol main.entry64"},
		{"missing-pagetables", func() []byte { return miniELF(miniSpec{"main.entry64", "main.pt", 8 * 4096}) }, 0, ErrSymbol, "missing symbol main.bootPageTables"},
		{"pagetables-too-small", func() []byte { return miniELF(miniSpec{"main.entry64", "main.bootPageTables", 6 * 4096}) }, 0, ErrSymbol, "needs"},
		{"entry-not-func", mini(func(b []byte) { b[miniSymtab+24+4] = 0x11 }), 0, ErrSymbol, "not a function"},
		{"stripped", mini(func(b []byte) { le.PutUint32(shdr(b, 4)[4:], 0) }), 0, ErrSymbol, "symbol table"},
		{"padding-not-zero", mini(func(b []byte) { b[0x400] = 0x90 }), 0, ErrLayout, "padding not zero: byte 0x90 at file offset 0x400"},
		{"too-little-padding", mini(func(b []byte) { le.PutUint64(shdr(b, 1)[24:], 0x300) }), 0, ErrLayout, "too little padding"},
		{"not-contiguous", mini(func(b []byte) {
			le.PutUint64(phdr(b, 1)[16:], 0x202000)
			le.PutUint64(phdr(b, 1)[24:], 0x202000)
		}), 0, ErrLayout, "segment 1 (vaddr 0x202000, offset 0x2000) is not at the same vaddr-offset"},
		{"paddr-differs", mini(func(b []byte) { le.PutUint64(phdr(b, 1)[24:], 0x10201000) }), 0, ErrLayout, "paddr"},
		{"above-4GiB", mini(func(b []byte) { le.PutUint64(phdr(b, 1)[40:], 1<<32) }), 0, ErrLayout, "above 4 GiB"},
		{"below-1MiB", mini(func(b []byte) {
			le.PutUint64(phdr(b, 0)[16:], 0x1000)
			le.PutUint64(phdr(b, 0)[24:], 0x1000)
			le.PutUint64(phdr(b, 1)[16:], 0x3000)
			le.PutUint64(phdr(b, 1)[24:], 0x3000)
		}), 0, ErrLayout, "below 1 MiB"},
		{"no-note-phdr-for-pvh", mini(func(b []byte) { le.PutUint32(phdr(b, 2), 0) }), PVH, ErrLayout, "PT_GNU_STACK"},
		{"over-OVMF-NVS", mini(func(b []byte) { le.PutUint64(phdr(b, 1)[40:], 0x700000) }), Multiboot2, ErrLayout, "above 0x800000"},
		{"segment-past-eof", mini(func(b []byte) { le.PutUint64(phdr(b, 1)[32:], 1<<20) }), 0, ErrFormat, "past end of file"},
		{"already-multiboot", patched, 0, ErrAlreadyPatched, "already has a multiboot header"},
		{"already-multiboot2", mb2Only, 0, ErrAlreadyPatched, "already has a multiboot2 header"},
		{"already-pvh", pvhOnly, 0, ErrAlreadyPatched, "already has a PVH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := probeOpts
			opt.Protocols = tt.protos
			r, err := Patch(tt.in(), opt)
			if err == nil {
				t.Fatalf("accepted: %s", r.Summary())
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want %v containing %q", err, tt.want, tt.msg)
			}
		})
	}
}

// A missing GNU_STACK only matters when a PVH note is asked for.
func TestMultibootOnlyNeedsNoNotePhdr(t *testing.T) {
	in := mini(func(b []byte) { le.PutUint32(phdr(b, 2), 0) })()
	if _, err := Patch(in, Options{Entry: "main.entry64", PageTables: "main.bootPageTables", Protocols: Multiboot}); err != nil {
		t.Fatal(err)
	}
}

func mini(corrupt func([]byte)) func() []byte {
	return func() []byte {
		b := miniELF(defaultMini)
		corrupt(b)
		return b
	}
}

// FuzzPatch feeds mutated ELFs; Patch must never panic, and whatever it
// accepts must keep its size and refuse a second patch.
func FuzzPatch(f *testing.F) {
	f.Add(miniELF(defaultMini))
	f.Add(mini(func(b []byte) { le.PutUint64(phdr(b, 1)[40:], 1<<32) })())
	if r, err := Patch(miniELF(defaultMini), probeOpts); err == nil {
		f.Add(r.Image)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, p := range []Protocol{allProtocols, Multiboot2, PVH} {
			opt := probeOpts
			opt.Protocols = p
			r, err := Patch(in, opt)
			if err != nil {
				continue
			}
			if len(r.Image) != len(in) {
				t.Fatalf("size changed %d -> %d", len(in), len(r.Image))
			}
			if _, err := Patch(r.Image, opt); !errors.Is(err, ErrAlreadyPatched) {
				t.Fatalf("second patch: %v", err)
			}
		}
	})
}

// TestWriteFuzzSeeds refreshes testdata/fuzz/FuzzPatch when
// GROVE_UPDATE_SEEDS=1; the seeds are small synthetic ELFs.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("GROVE_UPDATE_SEEDS") != "1" {
		t.Skip("set GROVE_UPDATE_SEEDS=1 to rewrite testdata/fuzz/FuzzPatch")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzPatch")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := Patch(miniELF(defaultMini), probeOpts)
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"mini":              miniELF(defaultMini),
		"mini-patched":      r.Image,
		"mini-no-gnu-stack": mini(func(b []byte) { le.PutUint32(phdr(b, 2), 0) })(),
		"mini-split-segments": mini(func(b []byte) {
			le.PutUint64(phdr(b, 1)[16:], 0x202000)
		})(),
	}
	for name, b := range seeds {
		data := "go test fuzz v1\n[]byte(" + strconvQuote(b) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The 8 MiB limit is for images firmware's loaders boot: a PVH image of
// the same size (a domain's) is patched.
func TestBigPVHAccepted(t *testing.T) {
	in := mini(func(b []byte) { le.PutUint64(phdr(b, 1)[40:], 0x700000) })()
	opt := probeOpts
	opt.Protocols = PVH
	if _, err := Patch(in, opt); err != nil {
		t.Fatalf("PVH image ending above 8 MiB refused: %v", err)
	}
}
