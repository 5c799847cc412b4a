package qemu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// linuxBundle bundles Debian's kernel and the u-root initramfs from
// out/linux (`make linux`) with the domains toml describes, and the Go
// guests it names from im, skipping the test when the kernel was never
// fetched.
func linuxBundle(t testing.TB, im Images, toml string) string {
	t.Helper()
	dir := filepath.Join("..", "out", "linux")
	files := goGuests(t, im, toml)
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
	return bundleFile(t, toml, files)
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

// Go guests for Linux's bundles: the control agent as dom0 (for
// grovectl), and a heartbeat beating twice a second.
const (
	dom0Domain = `
[[domain]]
name = "dom0"
image = "guests/agent.elf"
memory_mb = 64
privileged = true
`
	beatDomain = `
[[domain]]
name = "beat"
image = "guests/heartbeat.elf"
memory_mb = 32
cmdline = "period=500ms"
`
)

// kernelRelease is `uname -r` of out/linux/vmlinuz, from the package name
// linux.sh kept (linux-image-RELEASE).
func kernelRelease(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "out", "linux", "vmlinuz.package"))
	if err != nil {
		t.Fatalf("%v: `make linux` keeps the kernel's package name", err)
	}
	rel, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "linux-image-")
	if !ok {
		t.Fatalf("vmlinuz.package %q does not name a linux-image package", b)
	}
	return rel
}

// probeWork is grove-probe's work checksum, computed on the host by the
// same program (guests/probe) that the initramfs carries.
func probeWork(t *testing.T) string {
	out, err := exec.Command("go", "run", "grove/guests/probe", "-work").CombinedOutput()
	if err != nil {
		t.Fatalf("go run guests/probe -work: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// shellPrompt is how u-root's line editor starts a line; what is typed
// before it shows may be lost.
const shellPrompt = "[?25l> "

// shellLine types cmd at the shell (in "console 1") and waits for want and
// then for the next prompt; it returns what came from want on. want must
// not be in cmd: the line editor echoes what is typed.
func shellLine(r *Run, cmd, want string) string {
	r.Send(cmd + "\r")
	r.Expect(want, 60*time.Second)
	return want + strings.TrimSuffix(r.Expect(shellPrompt, 60*time.Second), shellPrompt)
}

// beats counts domain d's heartbeat lines in s.
func beats(s string, d int) int { return strings.Count(s, fmt.Sprintf("(d%d) beat ", d)) }

// TestLinuxShell boots Debian's stock kernel with the u-root initramfs as
// a Grove domain beside a Go heartbeat guest and uses its shell through
// Grove's console: Linux finds its UART, interrupt controllers and timer
// through the ACPI tables and the PC platform (hv/pc), its shell reads
// what is typed at "console 1" and its output comes back tagged. With two
// vCPUs Linux starts its second CPU itself (INIT-SIPI-SIPI through the
// local APIC model) and says both are up. In the shell: arithmetic
// expansions prove each line ran, `uname -r` is Debian's release, Linux
// counts the domain's vCPUs, and grove-probe (Grove's own command in the
// initramfs) reports them and the checksum of its work, which the host
// computes too. Back at Grove's prompt, "state 1" shows the domain's vCPUs
// and interrupt lines, and "sysrq 1 h" sends a break and a key that
// Linux's serial driver takes as a magic SysRq request. `poweroff` ends
// the domain and Grove says so; the heartbeat beats throughout.
func TestLinuxShell(t *testing.T) {
	rel, work := kernelRelease(t), probeWork(t)
	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprintf("vcpus=%d", n), func(t *testing.T) {
			im := Build(t)
			b := linuxBundle(t, im, linuxDomain(n)+beatDomain)
			r := Start(t, "linux", Boot{Kernel: im.Grove, Initrd: b, Mem: "1G"})
			r.Expect("grove: created d1 (linux)", 60*time.Second)
			r.Expect("(d1) [    0.000000] Linux version 6.1", 60*time.Second)
			booting := r.Mark()
			r.Expect(fmt.Sprintf("smp: Brought up 1 node, %d CPU", n), 120*time.Second)
			r.Expect("serial8250: ttyS0 at I/O 0x3f8 (irq = 4", 120*time.Second)
			r.Expect("(d1) init: ", 120*time.Second) // u-root's init, then its shell
			r.Expect("[?25l> ", 60*time.Second)      // the shell's line editor shows its prompt
			// The boot log is Linux's console writes, two UART exits a
			// byte, which the exit fast path answers (pc.UART.FastState):
			// far more of vCPU 0's exits so far are the fast path's than
			// port I/O through Go. (The shell's output, below, is
			// interrupt-driven and goes through Go.)
			r.Send("state 1\r")
			r.Expect("d1 v0 exits ", 10*time.Second)
			exits := r.Expect("fast=", 10*time.Second) + r.Expect("\n", 10*time.Second)
			if m := regexp.MustCompile(`io=(\d+) .*fast=(\d+)`).FindStringSubmatch(exits); m == nil {
				t.Errorf("state 1 does not show vCPU 0's exits by kind: %q", exits)
			} else if io, fast := mustAtoi(t, m[1]), mustAtoi(t, m[2]); fast < 2*io {
				t.Errorf("vCPU 0 while booting: %d exits in the fast path, %d port I/O exits through Go; want the console's in the fast path", fast, io)
			}
			// Linux takes 10 s or more to get here; the heartbeat beats
			// twice a second all along.
			if nb := beats(r.Since(booting), 2); nb < 8 {
				t.Errorf("the heartbeat beat %d times while Linux booted, want 8 or more:\n%s", nb, r.Serial())
			}
			r.Send("console 1\r")
			r.Expect("[console: d1; Ctrl-] returns to the prompt]", 10*time.Second)
			// Short lines: the line editor redraws the whole line at every
			// key, one UART exit per byte. Each Enter quits the editor, the
			// step that hung with u-root's Bubble Tea (scripts/linux.sh).
			for _, line := range []struct{ cmd, want string }{
				{"echo g-$((6*7))", "g-42"},
				{"echo h-$((6*8))", "h-48"},
				{"uname -r", rel},
				{"echo cpus-$(grep -c ^processor /proc/cpuinfo)", fmt.Sprintf("cpus-%d", n)},
			} {
				shellLine(r, line.cmd, line.want)
			}
			// Linux trusts the TSC (hv/platform.go linuxCmdline) and so runs
			// high-resolution timers (the typed pattern cannot match itself).
			if out := shellLine(r, "grep hres_act[i]ve /proc/timer_list", "hres_active"); !regexp.MustCompile(`hres_active\s+: 1`).MatchString(out) {
				t.Errorf("Linux is not using high-resolution timers: %q", out)
			}
			out := shellLine(r, "grove-probe", "grove-probe: ")
			if m := regexp.MustCompile(`grove-probe: cpus=(\d+) uptime=[0-9.]+s work=sha256:([0-9a-f]+)`).FindStringSubmatch(out); m == nil ||
				m[1] != fmt.Sprint(n) || m[2] != work {
				t.Errorf("grove-probe said %q; want cpus=%d and work=sha256:%s", out, n, work)
			}
			r.Send("\x1d")
			r.Expect("[console: back at the prompt]", 10*time.Second)
			r.Send("list\r")
			// Linux probes ports nothing models (COM2-4, the PIC): counted
			out = r.Expect("unmodelled=", 10*time.Second) + r.Expect("\n", 10*time.Second)
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
			r.Send("console 1\r")
			r.Expect("[console: d1; Ctrl-] returns to the prompt]", 10*time.Second)
			r.Send("poweroff\r")
			r.Expect("(d1) shut down (ACPI power off)", 60*time.Second)
			off := r.Mark()
			r.Send("\x1d")
			r.Expect("[console: back at the prompt]", 10*time.Second)
			time.Sleep(2 * time.Second)
			if nb := beats(r.Since(off), 2); nb < 2 {
				t.Errorf("the heartbeat beat %d times in the 2 s after Linux powered off:\n%s", nb, r.Serial())
			}
			r.Send("list\r")
			out = r.Expect("linux", 10*time.Second) + r.Expect("\n", 10*time.Second)
			if !strings.Contains(out, "shut") {
				t.Errorf("list after poweroff: %q, want linux shut down", out)
			}
			r.Send("halt\r")
			r.WantStatus(StatusSuccess)
		})
	}
}

// TestLinuxPanicIsolated: a Linux that panics early (no root file system:
// no initramfs, a root= that does not exist) and reboots on panic, as
// panic=-1 asks, is reported crashed with its last console lines, the
// panic among them; the heartbeat beside it beats on.
func TestLinuxPanicIsolated(t *testing.T) {
	im := Build(t)
	b := linuxBundle(t, im, `
[[domain]]
name = "linux"
kernel = "linux/vmlinuz"
memory_mb = 256
cmdline = "console=ttyS0 root=/dev/nonexistent panic=-1"
`+beatDomain)
	r := Start(t, "linuxpanic", Boot{Kernel: im.Grove, Initrd: b, Mem: "1G"})
	r.Expect("(d1) [    0.000000] Linux version 6.1", 60*time.Second)
	report := r.Mark()
	r.Expect("(d1) crashed: the guest reset its machine (reboot is not supported)", 180*time.Second)
	r.Expect("(d1) its last console lines:", 10*time.Second)
	time.Sleep(time.Second) // the report's lines, among the heartbeat's
	var repeated []string
	_, after, _ := strings.Cut(r.Since(report), "(d1) its last console lines:")
	for _, l := range strings.Split(after, "\n") {
		if strings.HasPrefix(l, "(d1) | ") {
			repeated = append(repeated, l)
		}
	}
	if !strings.Contains(strings.Join(repeated, "\n"), "Kernel panic - not syncing") {
		t.Errorf("the crash report does not repeat Linux's last lines from its panic on:\n%s", r.Serial())
	}
	ended := r.Mark()
	time.Sleep(2 * time.Second)
	if nb := beats(r.Since(ended), 2); nb < 2 {
		t.Errorf("the heartbeat beat %d times in the 2 s after Linux crashed:\n%s", nb, r.Serial())
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// TestLinuxInGroup: Linux joins a group through grovectl and is paused
// with it while its shell prints a line a second. The group pause stops
// the lines (the heartbeat outside the group beats on); after the unpause
// they go on, Linux's clock has caught up with the host's (its uptime
// counts the paused time), and no lockup or stall detector fired.
func TestLinuxInGroup(t *testing.T) {
	im := Build(t)
	grovectl(t)
	sock := filepath.Join(t.TempDir(), "grove.sock")
	b := linuxBundle(t, im, dom0Domain+linuxDomain(1)+beatDomain)
	r := Start(t, "linuxgroup", Boot{Kernel: im.Grove, Initrd: b, Mem: "1G", Control: sock, Timeout: 5 * time.Minute})
	r.Expect("(d0) agent: control domain up", 60*time.Second)
	r.Expect("[?25l> ", 180*time.Second)
	ctlOK(t, sock, "group", "create", "7")
	ctlOK(t, sock, "group", "join", "7", "linux")
	r.Send("console 1\r")
	r.Expect("[console: d1; Ctrl-] returns to the prompt]", 10*time.Second)
	uptime := regexp.MustCompile(`up-([0-9]+\.[0-9]+) `)
	m := uptime.FindStringSubmatch(shellLine(r, "echo up-$(cat /proc/uptime)", "up-")) // the regexp skips the echo
	before := time.Now()
	r.Send("for ((i=0;i<12;i++)); do echo tick-$i; sleep 1; done\r")
	r.Expect("(d1) tick-2", 30*time.Second)
	ctlOK(t, sock, "group", "pause", "7")
	r.Expect("(d1) paused", 10*time.Second)
	paused := r.Mark()
	time.Sleep(3 * time.Second)
	during := r.Since(paused)
	if strings.Contains(during, "(d1) tick-") || beats(during, 2) < 4 {
		t.Errorf("during the group pause Linux must be silent and the heartbeat beat on:\n%s", during)
	}
	ctlOK(t, sock, "group", "unpause", "7")
	r.Expect("(d1) unpaused", 10*time.Second)
	r.Expect("(d1) tick-11", 60*time.Second)
	r.Expect(shellPrompt, 30*time.Second)
	m2 := uptime.FindStringSubmatch(shellLine(r, "echo up-$(cat /proc/uptime)", "up-"))
	wall := time.Since(before).Seconds()
	if m == nil || m2 == nil {
		t.Fatalf("no uptime read: %q %q", m, m2)
	}
	var u1, u2 float64
	fmt.Sscan(m[1], &u1)
	fmt.Sscan(m2[1], &u2)
	// The uptime advanced with the host's clock, pause included (within 3
	// s: the two reads are a console round trip each from the clock).
	if d := u2 - u1; d < wall-3 || d > wall+3 {
		t.Errorf("Linux's uptime advanced %.1f s over %.1f s of host time with a 3 s pause", d, wall)
	}
	for _, splat := range []string{"soft lockup", "hard LOCKUP", "rcu_preempt detected stall", "self-detected stall", "hung_task", "Marking clocksource", "watchdog: BUG"} {
		if strings.Contains(r.Since(paused), splat) {
			t.Errorf("after the group pause Linux says %q:\n%s", splat, r.Serial())
		}
	}
	r.Send("\x1d")
	r.Expect("[console: back at the prompt]", 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// mustAtoi is strconv.Atoi for numbers a regular expression matched.
func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
