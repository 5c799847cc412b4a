package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
// (arithmetic expansions prove the shell ran each line) and its output
// comes back tagged. With two vCPUs Linux starts its second CPU itself
// (INIT-SIPI-SIPI through the local APIC model) and says both are up.
// Back at Grove's prompt, "state 1" shows the domain's vCPUs and interrupt
// lines, and "sysrq 1 h" sends a break and a key that Linux's serial
// driver takes as a magic SysRq request.
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
			r.Send("console 1\r")
			r.Expect("[console: d1; Ctrl-] returns to the prompt]", 10*time.Second)
			// Short lines: the line editor redraws the whole line at every
			// key, one UART exit per byte. Each Enter quits the editor, the
			// step that hung with u-root's Bubble Tea (scripts/linux.sh).
			for i, line := range []struct{ cmd, want string }{
				{"echo g-$((6*7))\r", "g-42"},
				{"echo h-$((6*8))\r", "h-48"},
				{"echo i-$((6*9))\r", "i-54"},
			} {
				r.Send(line.cmd)
				if out := r.Expect(line.want, 60*time.Second); i > 0 && !strings.Contains(out, "\n") {
					t.Errorf("line %d: %q came with no new line before it", i, line.want)
				}
			}
			r.Send("\x1d")
			r.Expect("[console: back at the prompt]", 10*time.Second)
			r.Send("list\r")
			// Linux probes ports nothing models (COM2-4, the PIC): counted
			out := r.Expect("unmodelled=", 10*time.Second) + r.Expect("\n", 10*time.Second)
			if !regexp.MustCompile(`linux +running .*unmodelled=[1-9]`).MatchString(out) {
				t.Errorf("list does not count Linux's unmodelled accesses:\n%s", out)
			}
			r.Send("state 1\r")
			out = r.Expect("d1 com1 ", 10*time.Second) + r.Expect("\n", 10*time.Second)
			for i := 0; i < n; i++ {
				if !regexp.MustCompile(fmt.Sprintf(`d1 v%d (running|runnable|blocked) cpu=\d rip=0x`, i)).MatchString(out) ||
					!regexp.MustCompile(fmt.Sprintf(`d1 v%d lapic enabled=true`, i)).MatchString(out) {
					t.Errorf("state 1 does not show vCPU %d and its enabled local APIC:\n%s", i, out)
				}
			}
			if !regexp.MustCompile(`ioapic pin4 vector=0x[0-9a-f]+ .*masked=false`).MatchString(out) ||
				!regexp.MustCompile(`com1 ier=0x[0-9a-f]+ `).MatchString(out) {
				t.Errorf("state 1 does not show COM1 and its unmasked IOAPIC pin:\n%s", out)
			}
			r.Send("sysrq 1 h\r")
			r.Expect("sysrq: HELP", 30*time.Second)
			r.Send("halt\r")
			r.WantStatus(StatusSuccess)
		})
	}
}
