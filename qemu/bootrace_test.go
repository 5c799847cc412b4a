package qemu

import (
	"strings"
	"testing"
	"time"
)

// A control domain that acts on the others the moment it runs finds every
// boot domain created and running: the loader creates them all first and
// starts dom0 last, so dom0 never races the loader, and destroying a
// domain at once draws no error from it (before, the loader's late start
// of that domain failed with "grove.toml: domain ...: invalid argument").
func TestBootBundleDom0ActsAtOnce(t *testing.T) {
	im := Build(t)
	b := writeBundle(t, im, `
[[domain]]
name = "dom0"
image = "guests/agent.elf"
memory_mb = 48
privileged = true
cmdline = "bootact"
[[domain]]
name = "hb1"
image = "guests/heartbeat.elf"
memory_mb = 32
cmdline = "period=100ms"
[[domain]]
name = "hb2"
image = "guests/heartbeat.elf"
memory_mb = 32
cmdline = "period=100ms"
[[domain]]
name = "hb3"
image = "guests/heartbeat.elf"
memory_mb = 32
cmdline = "period=100ms"
`)
	r := Start(t, "bootrace", Boot{Kernel: im.Grove, Initrd: b, Timeout: 3 * time.Minute})
	r.Expect("grove: boot bundle (module 0): 4 domains", 30*time.Second)
	r.Expect("(d0) agent: bootact: 4 domains at start, 4 running", 60*time.Second)
	r.ExpectAll(30*time.Second, "(d0) agent: bootact: destroy d3 -> ok", "(d3) destroyed")
	r.ExpectAll(30*time.Second, beat(1, 3), beat(2, 3))
	settle()
	all := r.All()
	for _, bad := range []string{"cannot start", "invalid argument", "grove: grove.toml"} {
		if strings.Contains(all, bad) {
			t.Fatalf("the loader reported %q:\n%s", bad, r.Serial())
		}
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}
