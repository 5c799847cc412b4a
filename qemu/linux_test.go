package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"grove/boot/bundle"
)

// linuxBundle bundles Debian's kernel and the u-root initramfs from
// out/linux (`make linux`) as one Linux domain, skipping the test when the
// kernel was never fetched.
func linuxBundle(t *testing.T, toml string) string {
	t.Helper()
	dir := filepath.Join("..", "out", "linux")
	files := map[string][]byte{}
	for name, file := range map[string]string{"linux/vmlinuz": "vmlinuz", "linux/initramfs.cpio": "initramfs.cpio"} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil && os.Getenv("GROVE_REQUIRE_LINUX") != "" { // make test: never skip
			t.Fatalf("no %s (%v): `make linux` fetches Debian's kernel and builds the initramfs", file, err)
		}
		if err != nil {
			t.Skipf("no %s (%v): `make linux` fetches Debian's kernel and builds the initramfs", file, err)
		}
		files[name] = b
	}
	data, err := bundle.Write([]byte(toml), files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Parse(data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "linux.cpio")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// linuxDomain is a Linux domain's grove.toml entry with n vCPUs.
func linuxDomain(n int) string {
	return fmt.Sprintf(`
[[domain]]
name = "linux"
kernel = "linux/vmlinuz"
initrd = "linux/initramfs.cpio"
memory_mb = 256
vcpus = %d
cmdline = "console=ttyS0"
`, n)
}

// TestLinuxShell boots Debian's stock kernel with the u-root initramfs as
// a Grove domain and uses its shell through Grove's console: Linux finds
// its UART, interrupt controllers and timer through the ACPI tables and
// the PC platform (hv/pc), its shell reads what is typed at "console 1"
// (an arithmetic expansion proves the shell ran it) and its output comes
// back tagged. With two vCPUs Linux starts its second CPU itself
// (INIT-SIPI-SIPI through the local APIC model) and says both are up.
func TestLinuxShell(t *testing.T) {
	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprintf("vcpus=%d", n), func(t *testing.T) {
			im := Build(t)
			b := linuxBundle(t, linuxDomain(n))
			r := Start(t, "linux", Boot{Kernel: im.Grove, Initrd: b, Mem: "1G"})
			r.Expect("grove: created d1 (linux)", 60*time.Second)
			r.Expect("(d1) [    0.000000] Linux version 6.1", 60*time.Second)
			r.Expect(fmt.Sprintf("smp: Brought up 1 node, %d CPU", n), 120*time.Second)
			r.Expect("serial8250: ttyS0 at I/O 0x3f8 (irq = 4", 120*time.Second)
			r.Expect("(d1) init: ", 120*time.Second) // u-root's init, then its shell
			r.Expect("[?25l> ", 60*time.Second)      // the shell's line editor shows its prompt
			if n > 1 {
				// Known bug (docs/linux.md, "Known problems"): with two
				// vCPUs the shell hangs at Enter in some runs, so the
				// round trip is checked with one; two must boot to the
				// shell's prompt and power off.
				r.Send("halt\r")
				r.WantStatus(StatusSuccess)
				return
			}
			r.Send("console 1\r")
			r.Expect("[console: d1; Ctrl-] returns to the prompt]", 10*time.Second)
			// Short: the line editor redraws the whole line at every key,
			// one UART exit per byte.
			r.Send("echo g-$((6*7))\r")
			r.Expect("g-42", 120*time.Second)
			r.Send("\x1d")
			r.Expect("[console: back at the prompt]", 10*time.Second)
			r.Send("list\r")
			// Linux probes ports nothing models (COM2-4, the PIC): counted
			out := r.Expect("unmodelled=", 10*time.Second) + r.Expect("\n", 10*time.Second)
			if !regexp.MustCompile(`linux +running .*unmodelled=[1-9]`).MatchString(out) {
				t.Errorf("list does not count Linux's unmodelled accesses:\n%s", out)
			}
			r.Send("halt\r")
			r.WantStatus(StatusSuccess)
		})
	}
}
