package guest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// realImages returns Grove-built PVH images: those `make image` and `make
// guests` left in out/, or else a Grove image built here (about 10 s), so
// the loader is always checked against what the real toolchain produces.
func realImages(t *testing.T) map[string][]byte {
	imgs := map[string][]byte{}
	for _, name := range []string{"grove.elf", "agent.elf", "heartbeat.elf"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "out", name)); err == nil {
			imgs[name] = b
		}
	}
	if _, ok := imgs["grove.elf"]; !ok {
		imgs["grove.elf"] = buildGrove(t)
	}
	return imgs
}

func buildGrove(t *testing.T) []byte {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no out/grove.elf and no go tool to build one: %v", err)
	}
	dir := t.TempDir()
	linked, img := filepath.Join(dir, "grove.linked"), filepath.Join(dir, "grove.elf")
	for _, args := range [][]string{
		{"build", "-trimpath", "-ldflags=-T 0x200000 -R 0x1000", "-o", linked, "grove/cmd/grove"},
		{"run", "grove/cmd/groveimg", "-protocols=pvh", "-o", img, linked},
	} {
		cmd := exec.Command(goTool, args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRealImages(t *testing.T) {
	for name, data := range realImages(t) {
		t.Run(name, func(t *testing.T) {
			img, err := ParseImage(name, data)
			if err != nil {
				t.Fatal(err)
			}
			cmdline := "name=web1 period=1s"
			mods := [][]byte{[]byte("module payload")}
			mem, p, bi := boot(t, img, 64<<20, cmdline, mods) // grove.elf has 34 MiB of bss (docs/linux.md)
			checkLoaded(t, img, mem, p, bi, cmdline, mods)
			t.Logf("%s: entry %#x, %d segments, ends at %#x", name, img.Entry, len(img.Segments), img.End())
		})
	}
}
