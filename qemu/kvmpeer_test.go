package qemu

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Netflix/go-expect"
	"github.com/u-root/u-root/pkg/cpio"

	"grove/internal/kvmhost"
)

// The KVM peers of make bench: Linux's KVM as the hypervisor in the same
// QEMU, Debian's kernel (out/linux, `make linux`, with KVM's modules in
// out/linux/kvm) booting an initramfs (internal/kvmhost) whose /init is
// testdata/kvmpeer. For BenchmarkExits it drives /dev/kvm with a
// real-mode guest looping on CPUID (KVM answers in the kernel) and on port
// writes (each an exit to user space); for BenchmarkLinuxBoot it runs the
// host's own QEMU, packed in with its libraries and firmware, with -accel
// kvm, booting the same Linux guest as the benchmark's other rows.

var kvmLine = regexp.MustCompile(`kvm: (cpuid-exit|io-exit-user) (\d+) ns\n`)

// kvmPeer returns KVM's CPUID exit and its exit to user space, in ns.
// Without `make linux`'s files it returns an error saying so, unless
// GROVE_REQUIRE_LINUX is set: then the benchmark fails.
func kvmPeer(b *testing.B) (cpuid, io float64, err error) {
	if err := kvmPeerFiles(b); err != nil {
		return 0, 0, err
	}
	initrd := filepath.Join(b.TempDir(), "kvmpeer.cpio")
	if err := kvmhost.WriteInitrd(initrd, kvmPeerInit(b)); err != nil {
		b.Fatal(err)
	}
	all, err := bootKVMPeer(b, "kvm-peer", initrd, "", "512M", nil, 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range kvmLine.FindAllStringSubmatch(all, -1) {
		got[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	if got["cpuid-exit"] == 0 || got["io-exit-user"] == 0 {
		b.Fatalf("KVM peer printed no figures:\n%s", all)
	}
	return got["cpuid-exit"], got["io-exit-user"], nil
}

// linuxBootVariant is one command line of BenchmarkLinuxBoot.
type linuxBootVariant struct{ name, cmdline string }

// The nested QEMU of kvmLinuxBoots: the direct boot's machine, memory and
// vCPU, on KVM with the host's CPU, without default devices (no option
// ROMs to pack), the guest's serial port on its standard output.
var kvmLinuxArgs = []string{"-machine", "q35", "-accel", "kvm", "-cpu", "host", "-m", "256M", "-smp", "1",
	"-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
	"-kernel", "/guest/vmlinuz", "-initrd", "/guest/initramfs.cpio"}

// kvmLinuxHostArgs are the KVM host's own QEMU arguments (after
// BaseCommand's): one vCPU. With BaseCommand's two (single-threaded TCG,
// as the other peers run) the nested guest hangs early in boot, at a
// different place each time (ACPI, PCI, even before the console is
// set up), spinning with interrupts off on a spinlock it holds itself
// (RAX 0x101, the timer's vector 0x30 in a register): an interrupt
// reaches it while it has them masked. KVM's vgif=0 or npt=0 and the
// nested QEMU's kernel-irqchip=split did not change that; with one vCPU
// in the KVM host every boot tried reached init (docs/linux.md).
var kvmLinuxHostArgs = []string{"-smp", "1"}

// kvmLinuxBootTimeout is the limit of one nested boot: with the full
// log it takes about 65 s here (every console byte is an exit to the
// nested QEMU), with quiet about 22 s.
const kvmLinuxBootTimeout = 3 * time.Minute

// kvmLinuxFirmware: what that QEMU reads from its data directories.
var kvmLinuxFirmware = []string{"seabios/bios-256k.bin", "qemu/kvmvapic.bin", "qemu/linuxboot_dma.bin"}

var kvmBootLine = regexp.MustCompile(`kvm: linux-boot (\S+) (\d+) ms\n`)

// kvmLinuxBoots boots out/linux's kernel and initramfs under QEMU/KVM in
// the peer, linuxBootRuns times with each variant's command line, and
// returns the median times from QEMU's start to line by variant name.
// Without `make linux`'s files it returns an error, unless
// GROVE_REQUIRE_LINUX is set: then the benchmark fails. A peer that fails
// (docs/linux.md: on QEMU 7.2's TCG its guest hangs early in boot unless
// the KVM host has one vCPU, kvmLinuxHostArgs) is an error too, its
// console logged: the benchmark's other rows stand.
func kvmLinuxBoots(b *testing.B, variants []linuxBootVariant, line string) (map[string]time.Duration, error) {
	if err := kvmPeerFiles(b, "initramfs.cpio"); err != nil {
		return nil, err
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		b.Fatal(err)
	}
	files, err := kvmhost.QEMUFiles(qemu, kvmLinuxFirmware)
	if err != nil {
		b.Fatal(err)
	}
	dir, _ := filepath.Abs(filepath.Join("..", "out", "linux"))
	files = append(files, kvmhost.File{Name: "guest/vmlinuz", Host: filepath.Join(dir, "vmlinuz")},
		kvmhost.File{Name: "guest/initramfs.cpio", Host: filepath.Join(dir, "initramfs.cpio")})
	type boot struct {
		Name    string `json:"name"`
		Cmdline string `json:"cmdline"`
	}
	cfg := struct {
		Args    []string      `json:"args"`
		Line    string        `json:"line"`
		Runs    int           `json:"runs"`
		Timeout time.Duration `json:"timeout"`
		Boots   []boot        `json:"boots"`
	}{Args: kvmLinuxArgs, Line: line, Runs: linuxBootRuns, Timeout: kvmLinuxBootTimeout}
	for _, v := range variants {
		cfg.Boots = append(cfg.Boots, boot{Name: kvmBootName(v.name), Cmdline: v.cmdline})
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		b.Fatal(err)
	}
	initrd := filepath.Join(b.TempDir(), "kvmpeer-linux.cpio")
	if err := kvmhost.WriteInitrd(initrd, append(kvmPeerInit(b), files...), cpio.StaticFile("linuxboot.json", string(js), 0o644)); err != nil {
		b.Fatal(err)
	}
	verbosef(b, "QEMU/KVM peer: /%s %s -append CMDLINE", kvmhost.QEMU, strings.Join(kvmLinuxArgs, " "))
	timeout := time.Duration(len(variants)*linuxBootRuns)*cfg.Timeout + 5*time.Minute
	// tsc=reliable: TCG's CPU has no constant_tsc, so an AMD host kernel
	// may mark its TSC unstable (with 2 vCPUs: "TSCs unsynchronized"),
	// which KVM then works around at every vCPU load. A real host's TSC
	// is constant; Grove's Linux guests get tsc=reliable too.
	all, err := bootKVMPeer(b, "kvm-peer-linux", initrd, "tsc=reliable -- linux-boot", "1G", kvmLinuxHostArgs, timeout)
	if err != nil {
		return nil, err
	}
	times := map[string][]time.Duration{}
	for _, m := range kvmBootLine.FindAllStringSubmatch(all, -1) {
		ms, _ := strconv.Atoi(m[2])
		times[m[1]] = append(times[m[1]], time.Duration(ms)*time.Millisecond)
	}
	medians := map[string]time.Duration{}
	for _, v := range variants {
		ts := times[kvmBootName(v.name)]
		if len(ts) != linuxBootRuns {
			b.Fatalf("QEMU/KVM peer: %d boots of %q, want %d:\n%s", len(ts), v.name, linuxBootRuns, all)
		}
		verbosef(b, "QEMU/KVM peer, %s: %v", v.name, ts)
		medians[v.name] = median(slices.Clone(ts))
	}
	return medians, nil
}

// kvmBootName is a variant's name as one word, for the peer's lines.
func kvmBootName(name string) string { return strings.ReplaceAll(name, " ", "-") }

// kvmPeerFiles checks that `make linux` left the kernel, KVM's modules and
// the more files named in out/linux. Without them it returns an error
// saying so, unless GROVE_REQUIRE_LINUX is set: then the benchmark fails.
func kvmPeerFiles(b *testing.B, more ...string) error {
	dir := filepath.Join("..", "out", "linux")
	for _, f := range append([]string{"vmlinuz", "kvm/irqbypass.ko", "kvm/kvm.ko", "kvm/kvm-amd.ko"}, more...) {
		_, err := os.Stat(filepath.Join(dir, f))
		if err != nil && os.Getenv("GROVE_REQUIRE_LINUX") != "" {
			b.Fatalf("KVM peer: %v: `make linux` fetches Debian's kernel and KVM's modules", err)
		}
		if err != nil {
			return fmt.Errorf("%w (`make linux` fetches Debian's kernel and KVM's modules)", err)
		}
	}
	return nil
}

// kvmPeerInit builds testdata/kvmpeer as a static Linux binary and returns
// it as the initramfs's /init, with KVM's modules.
func kvmPeerInit(b *testing.B) []kvmhost.File {
	bin := filepath.Join(b.TempDir(), "init")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("testdata", "kvmpeer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the KVM peer: %v\n%s", err, out)
	}
	return append([]kvmhost.File{{Name: "init", Host: bin}}, kvmhost.ModuleFiles(filepath.Join("..", "out", "linux"))...)
}

// bootKVMPeer boots Debian's kernel with initrd and mem, args appended to
// its command line and qemuArgs to QEMU's (Boot.Args), until the peer
// says "kvm: done" and powers off, and returns its console. A "kvm:
// failed" line ends it at once; that, no "kvm: done" in time or another
// exit status is an error, with the console's tail logged.
func bootKVMPeer(b *testing.B, name, initrd, args, mem string, qemuArgs []string, timeout time.Duration) (string, error) {
	kernel, _ := filepath.Abs(filepath.Join("..", "out", "linux", "vmlinuz"))
	r := Start(b, name, Boot{Kernel: kernel, Initrd: initrd, Append: strings.TrimSpace("console=ttyS0 quiet panic=-1 " + args),
		Mem: mem, Args: qemuArgs, Timeout: timeout + time.Minute})
	_, err := r.expect(timeout, expect.String("kvm: done", "kvm: failed"))
	if err == nil {
		_, err = r.expect(10*time.Second, expect.String("\n"))
	}
	if err != nil {
		b.Logf("%s: serial tail:\n%s", name, r.Serial())
		return "", fmt.Errorf("%s: waiting %v for kvm: done: %v", name, timeout, err)
	}
	all := r.All()
	if m := regexp.MustCompile(`kvm: failed: .*`).FindString(all); m != "" {
		r.kill()
		b.Logf("%s: serial tail:\n%s", name, r.Serial())
		if len(m) > 300 {
			m = m[:300] + "..." // the whole line is in the log
		}
		return "", fmt.Errorf("%s: %s", name, m)
	}
	if status, _ := r.Wait(); status != 0 { // Linux powers off
		return "", fmt.Errorf("%s: QEMU's exit status %d after kvm: done, want 0", name, status)
	}
	return all, nil
}
