package qemu

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gt "grove/boot/guest/guesttest"
	"grove/guests/asm"
)

// TestMultibootDomain boots a multiboot test kernel as a domain, as QEMU
// boots kvm-unit-tests (docs/conformance.md): Grove's multiboot loader
// starts it with the magic in EAX and its command line (the domain's name
// first), it reads fw_cfg's signature and CPU count and the PM timer,
// prints them on COM1 and writes 0x40 + the CPU count to port 0xf4. Grove
// ends that domain only, with the status on its console and in list, and
// keeps running: the heartbeat domain beside it goes on. A raw module
// with a multiboot kernel loaded past its domain's RAM is refused by name.
func TestMultibootDomain(t *testing.T) {
	im := Build(t)
	probe, err := asm.MultibootProbe(0x40)
	if err != nil {
		t.Fatal(err)
	}
	toml := `
[[domain]]
name = "probe"
kernel = "x86/probe.flat"
memory_mb = 16
vcpus = 3
cmdline = "arg1 arg2"
[[domain]]
name = "web1"
image = "guests/heartbeat.elf"
memory_mb = 32
cmdline = "period=200ms"
`
	files := goGuests(t, im, toml)
	files["x86/probe.flat"] = probe
	path := bundleFile(t, toml, files)
	bad := filepath.Join(t.TempDir(), "bad.flat")
	if err := os.WriteFile(bad, gt.MultibootAoutImage(0x2000000), 0o644); err != nil { // at 32 MiB
		t.Fatal(err)
	}
	r := Start(t, "multiboot", Boot{Kernel: im.Grove, Initrd: path + "," + bad + " name=bad mem=16"})
	r.Expect("grove: boot bundle (module 0): 2 domains", 30*time.Second)
	r.ExpectAll(30*time.Second, "(d1) probe arg1 arg2", "(d1) QEMU cpus=3", "(d1) pmtimer ticks",
		"(d1) exited with status 67", // 0x40 + 3 vCPUs
		`grove: boot module: domain "bad": bad: segment [0x2000000, 0x2002000) is outside the domain's 16 MiB of RAM`)
	r.Expect("(d2) beat", 30*time.Second) // Grove and the other domain go on
	r.Send("list\r")
	r.Expect("shutdown pause=0 mem=16MiB", 10*time.Second)
	r.Expect("status=67", 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// TestBadInputIsolated: a PC-platform guest reads and writes back every
// I/O port, writes nonsense to the UART, PIT, RTC, PIC, I/O APIC and local
// APIC, reads every page below 4 GiB, writes all ones above 1 GiB
// and sends IPIs to an APIC id it does not have (guests/asm
// MultibootPoker). It finishes and exits with status 0; its unmodelled
// accesses are counted, their messages stop at a bound; the heartbeat
// beside it beats throughout and Grove's prompt still answers.
func TestBadInputIsolated(t *testing.T) {
	im := Build(t)
	poker, err := asm.MultibootPoker()
	if err != nil {
		t.Fatal(err)
	}
	toml := `
[[domain]]
name = "poker"
kernel = "x86/poker.flat"
memory_mb = 32
[[domain]]
name = "beat"
image = "guests/heartbeat.elf"
memory_mb = 32
cmdline = "period=200ms"
`
	files := goGuests(t, im, toml)
	files["x86/poker.flat"] = poker
	path := bundleFile(t, toml, files)
	r := Start(t, "poker", Boot{Kernel: im.Grove, Initrd: path, Timeout: 5 * time.Minute})
	r.Expect("grove: created d1 (poker)", 30*time.Second)
	start := r.Mark()
	r.Expect("(d1) poke done", 4*time.Minute)
	r.Expect("(d1) exited with status 0", 30*time.Second)
	during := r.Since(start)
	if n := beats(during, 2); n < 5 {
		t.Errorf("the heartbeat beat %d times while the poker ran:\n%s", n, r.Serial())
	}
	if !strings.Contains(during, "no more are logged") || strings.Count(during, "(d1) no device at gpa") > 64 {
		t.Errorf("the poker's unmodelled accesses were not logged with a bound:\n%s", r.Serial())
	}
	r.Expect("(d2) beat", 10*time.Second)
	r.Send("list\r")
	out := r.Expect("status=0", 10*time.Second)
	if !regexp.MustCompile(`poker +shutdown .*unmodelled=[1-9][0-9]{3,}`).MatchString(out) {
		t.Errorf("list does not count the poker's unmodelled accesses in thousands:\n%s", out)
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}
