package guest

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/u-root/u-root/pkg/boot/bzimage"
)

// TestRealLinux loads Debian's cloud kernel (and the u-root initramfs) that
// `make linux` leaves in out/linux, when they are there.
func TestRealLinux(t *testing.T) {
	dir := filepath.Join("..", "..", "out", "linux")
	data, err := os.ReadFile(filepath.Join(dir, "vmlinuz"))
	if err != nil {
		t.Skipf("no Debian kernel to load (%v): `make linux` fetches it", err)
	}
	initrd, err := os.ReadFile(filepath.Join(dir, "initramfs.cpio"))
	if err != nil {
		t.Logf("no initramfs (%v): loading the kernel alone", err)
	}
	img, err := ParseLinux("vmlinuz", data)
	if err != nil {
		t.Fatal(err)
	}
	h := &img.Header
	t.Logf("protocol %s, %d setup sectors, kernel %d bytes, init_size %#x, pref_address %#x, initrd_addr_max %#x",
		protoString(h.Protocolversion), h.SetupSects, len(img.Kernel), h.InitSize, h.PrefAddress, h.InitrdAddrMax)
	checkDecompresses(t, data, img)
	cfg := LinuxConfig{MemBytes: 256 << 20, Cmdline: "console=ttyS0 earlyprintk=serial,ttyS0", Initrd: initrd, VCPUs: 2}
	mem, p, bp := linuxBoot(t, img, cfg)
	checkLinuxStart(t, p)
	want := uint64(0)
	if len(initrd) > 0 {
		want = (256<<20 - uint64(len(initrd))) &^ (pageSize - 1)
	}
	checkZeroPage(t, mem, img, bp, cfg, want)
	checkACPI(t, mem, 2)
	if !bytes.Equal(mem[linuxLoadAddr:linuxLoadAddr+len(img.Kernel)], img.Kernel) {
		t.Error("kernel not at 1 MiB")
	}
}

// checkDecompresses has u-root decompress the payload: what Grove loads at
// 1 MiB holds a kernel that unpacks to an x86-64 ELF.
func checkDecompresses(t *testing.T, data []byte, img *LinuxImage) {
	var b bzimage.BzImage
	c := bytes.Clone(data)
	c[0], c[1] = 0, 0 // no "MZ": u-root would log that the signature is ignored
	if err := b.UnmarshalBinary(c); err != nil {
		t.Fatalf("u-root cannot decompress the kernel: %v", err)
	}
	f, err := elf.NewFile(bytes.NewReader(b.KernelCode))
	if err != nil || f.Machine != elf.EM_X86_64 {
		t.Fatalf("decompressed kernel is not an x86-64 ELF: %v", err)
	}
	off := uint64(img.Header.PayloadOffset)
	if !bytes.Equal(img.Kernel[off:off+16], data[int(b.KernelOffset)+int(off):][:16]) {
		t.Error("payload not where the header says in the loaded kernel")
	}
}
