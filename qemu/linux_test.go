package qemu

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

var linuxExits = regexp.MustCompile(`d1 +linux +running .*exits=([0-9]+)`)

// TestLinuxLoads boots Debian's bzImage through the Linux boot protocol.
// Until hv/pc gives it a UART, Linux prints nothing; what shows that it
// was loaded right is where its port accesses come from: first the
// decompressor (a low physical RIP) probing the early serial port, then
// the decompressed kernel at its high virtual addresses (RIP
// 0xffffffff...), which it reaches only if boot_params, the e820 map and
// the initrd's place were good. Its exit count keeps growing.
func TestLinuxLoads(t *testing.T) {
	im := Build(t)
	b := linuxBundle(t, `
[[domain]]
name = "linux"
kernel = "linux/vmlinuz"
initrd = "linux/initramfs.cpio"
memory_mb = 256
cmdline = "console=ttyS0 earlyprintk=serial,ttyS0"
`)
	r := Start(t, "linux", Boot{Kernel: im.Grove, Initrd: b, Mem: "1G"})
	r.Expect("grove: created d1 (linux)", 60*time.Second)
	r.Expect("(d1) no device at port 0x3f", 30*time.Second) // the decompressor's early serial
	r.Expect("(rip=0xffffffff", 60*time.Second)             // the kernel proper
	first := exits(t, r)
	time.Sleep(5 * time.Second)
	if second := exits(t, r); second <= first {
		t.Fatalf("Linux's exits went from %d to %d in 5 s: it stopped", first, second)
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// exits lists the domains at the prompt and returns the Linux domain's
// exit count.
func exits(t *testing.T, r *Run) int {
	t.Helper()
	r.Send("list\r")
	out := r.Expect("exits=", 10*time.Second)
	out += r.Expect("\n", 10*time.Second)
	m := linuxExits.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no running Linux domain in the list:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
