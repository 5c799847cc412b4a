package qemu

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
)

// The KVM peer of BenchmarkExits: Linux's KVM as the hypervisor in the same
// QEMU, Debian's kernel (out/linux, `make linux`, with KVM's modules in
// out/linux/kvm) booting an initramfs whose /init is testdata/kvmpeer. It
// drives /dev/kvm with a real-mode guest looping on CPUID (KVM answers in
// the kernel) and on port writes (each an exit to user space).

var kvmLine = regexp.MustCompile(`kvm: (cpuid-exit|io-exit-user) (\d+) ns\n`)

// kvmPeer returns KVM's CPUID exit and its exit to user space, in ns.
// Without `make linux`'s files it returns an error saying so, unless
// GROVE_REQUIRE_LINUX is set: then the benchmark fails.
func kvmPeer(b *testing.B) (cpuid, io float64, err error) {
	dir := filepath.Join("..", "out", "linux")
	files := map[string][]byte{}
	for _, f := range []string{"vmlinuz", "kvm/irqbypass.ko", "kvm/kvm.ko", "kvm/kvm-amd.ko"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil && os.Getenv("GROVE_REQUIRE_LINUX") != "" {
			b.Fatalf("KVM peer: %v: `make linux` fetches Debian's kernel and KVM's modules", err)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%w (`make linux` fetches Debian's kernel and KVM's modules)", err)
		}
		files[f] = data
	}
	initrd := kvmPeerInitrd(b, files)
	kernel, _ := filepath.Abs(filepath.Join(dir, "vmlinuz"))
	r := Start(b, "kvm-peer", Boot{Kernel: kernel, Initrd: initrd, Append: "console=ttyS0 quiet panic=-1",
		Timeout: 10 * time.Minute})
	r.Expect("kvm: done", 9*time.Minute)
	all := r.All()
	if m := regexp.MustCompile(`kvm: failed: .*`).FindString(all); m != "" {
		b.Fatalf("KVM peer: %s", m)
	}
	r.WantStatus(0) // Linux powered off
	got := map[string]float64{}
	for _, m := range kvmLine.FindAllStringSubmatch(all, -1) {
		got[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	if got["cpuid-exit"] == 0 || got["io-exit-user"] == 0 {
		b.Fatalf("KVM peer printed no figures:\n%s", r.Serial())
	}
	return got["cpuid-exit"], got["io-exit-user"], nil
}

// kvmPeerInitrd builds testdata/kvmpeer as a static Linux binary and packs
// it as /init, with KVM's modules in /modules and /dev/console, into a
// newc cpio.
func kvmPeerInitrd(b *testing.B, files map[string][]byte) string {
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "init")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("testdata", "kvmpeer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the KVM peer: %v\n%s", err, out)
	}
	init, err := os.ReadFile(bin)
	if err != nil {
		b.Fatal(err)
	}
	recs := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.Directory("modules", 0o755),
		cpio.StaticFile("init", string(init), 0o755),
	}
	for _, m := range []string{"irqbypass", "kvm", "kvm-amd"} {
		recs = append(recs, cpio.StaticFile("modules/"+m+".ko", string(files["kvm/"+m+".ko"]), 0o644))
	}
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		b.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(tmp, "kvmpeer.cpio")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}
