package guest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestRealMultiboot loads real multiboot kernels: Grove's own image (its
// groveimg header, out/grove.elf, when `make image` has run) and, with
// KUT=DIR naming a kvm-unit-tests build (docs/conformance.md), every
// x86/*.flat in it. Without either it has nothing to load and skips.
func TestRealMultiboot(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "out", "grove.elf"))
	if kut := os.Getenv("KUT"); kut != "" {
		flats, _ := filepath.Glob(filepath.Join(kut, "x86", "*.flat"))
		files = append(files, flats...)
	}
	if len(files) == 0 {
		t.Skip("no out/grove.elf (make image) and no KUT=DIR with kvm-unit-tests' x86/*.flat")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			img, err := ParseMultiboot(filepath.Base(f), data)
			if err != nil {
				t.Fatal(err)
			}
			const memBytes = 128 << 20
			mods := [][]byte{[]byte("NR_CPUS=1\n")}
			p, err := NewMultibootPlan(img, MultibootConfig{MemBytes: memBytes, Cmdline: "a b", Modules: mods, VCPUs: 1})
			if err != nil {
				t.Fatal(err)
			}
			mem := bytes.Repeat([]byte{0xa5}, memBytes)
			if err := Apply(p, mem); err != nil {
				t.Fatal(err)
			}
			checkMultiboot(t, img, p, mem, filepath.Base(f)+" a b", mods)
			t.Logf("entry %#x, %d segments, ends at %#x", img.Entry, len(img.Segments), img.End())
		})
	}
}
