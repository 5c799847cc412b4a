package builtin

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"grove/guests/asm"
)

// TestUpToDate fails when the embedded images differ from what the
// assembler builds now: run `go generate ./guests/builtin`.
func TestUpToDate(t *testing.T) {
	want := slices.Sorted(maps.Keys(asm.Builtin))
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("embedded guests %v, asm.Builtin has %v: run go generate ./guests/builtin", got, want)
	}
	for _, name := range want {
		t.Run(name, func(t *testing.T) {
			img, err := asm.Builtin[name]()
			if err != nil {
				t.Fatal(err)
			}
			got, ok := Image(name)
			if !ok || !bytes.Equal(got, img) {
				t.Fatalf("embedded %s.elf (%d bytes) differs from asm's (%d bytes): run go generate ./guests/builtin",
					name, len(got), len(img))
			}
		})
	}
}

func TestImageRefusesPaths(t *testing.T) {
	for _, name := range []string{"", "nosuch", "../builtin", "hello.elf", "images/hello"} {
		t.Run(name, func(t *testing.T) {
			if _, ok := Image(name); ok {
				t.Fatalf("Image(%q) found an image", name)
			}
		})
	}
}

func TestImageIsACopy(t *testing.T) {
	a, _ := Image("hello")
	a[0] ^= 0xff
	if b, _ := Image("hello"); b[0] == a[0] {
		t.Fatal("changing a returned image changed the embedded one")
	}
}
