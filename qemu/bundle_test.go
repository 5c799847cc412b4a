package qemu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grove/boot/bundle"
)

// writeBundle builds a boot bundle from a grove.toml and the Go guests.
func writeBundle(t *testing.T, im Images, toml string) string {
	t.Helper()
	return bundleFile(t, toml, goGuests(t, im, "guests/agent.elf guests/heartbeat.elf"))
}

func TestBootBundle(t *testing.T) {
	im := Build(t)
	b := writeBundle(t, im, `
timeslice_ms = 5
[[domain]]
name = "dom0"
image = "guests/agent.elf"
memory_mb = 48
privileged = true
[[domain]]
name = "web1"
image = "guests/heartbeat.elf"
memory_mb = 32
cmdline = "period=50ms"
`)
	r := Start(t, "bundle", Boot{Kernel: im.Grove, Initrd: b})
	r.Expect("grove: boot bundle (module 0): 2 domains", 30*time.Second)
	// On several CPUs the two domains start in either order.
	r.ExpectAll(30*time.Second, "(d0) agent: control domain up",
		"(d1) heartbeat: Go", "beating every 50ms") // the domain's cmdline reached the guest
	r.ExpectAll(10*time.Second, "(d1) beat 00000005", "(d0) agent: 2 domains, 2 running")
	r.Send("list\r")
	r.Expect("web1", 10*time.Second)
	r.Expect("mem=32MiB", 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// A broken bundle is refused with the file and field named; Grove boots on.
func TestBadBundle(t *testing.T) {
	im := Build(t)
	for _, tc := range []struct {
		name, toml string
		want       []string
	}{
		{"memory", "[[domain]]\nname = \"a\"\nimage = \"guests/heartbeat.elf\"\nmemory_mb = 4\n",
			[]string{"grove.toml", "memory_mb", "4"}},
		{"unknown-key", "[[domain]]\nname = \"a\"\nimage = \"guests/heartbeat.elf\"\nmemory_mb = 64\nmemroy = 1\n",
			[]string{"grove.toml", "memroy"}},
		{"missing-image", "[[domain]]\nname = \"a\"\nimage = \"guests/none.elf\"\nmemory_mb = 64\n",
			[]string{"guests/none.elf", "not in the bundle"}},
		{"syntax", "[[domain]\nname = \"a\"\n", []string{"grove.toml:2", "delimiter"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.cpio")
			data := rawBundle(t, im, tc.toml)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			r := Start(t, "badbundle", Boot{Kernel: im.Grove, Initrd: path})
			out := r.Expect("grove> ", 30*time.Second)
			if !strings.Contains(out, "boot bundle (module 0) refused") {
				t.Fatalf("no refusal in:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("refusal does not mention %q:\n%s", w, out)
				}
			}
			r.Send("halt\r")
			r.WantStatus(StatusSuccess)
		})
	}
}

// rawBundle writes a bundle with the given grove.toml; bundle.Write does
// not validate (grovebundle and Grove do), so bad configs can be built.
func rawBundle(t *testing.T, im Images, toml string) []byte {
	t.Helper()
	hb, err := os.ReadFile(im.Heartbeat)
	if err != nil {
		t.Fatal(err)
	}
	data, err := bundle.Write([]byte(toml), map[string][]byte{"guests/heartbeat.elf": hb})
	if err != nil {
		t.Fatal(err)
	}
	return data
}
