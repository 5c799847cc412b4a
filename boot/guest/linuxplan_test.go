package guest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	gt "grove/boot/guest/guesttest"

	"github.com/u-root/u-root/pkg/boot/bzimage"
)

// linuxBoot plans img with cfg, applies the plan to junk-filled memory and
// decodes the zero page with u-root's own boot_params layout.
func linuxBoot(t *testing.T, img *LinuxImage, cfg LinuxConfig) ([]byte, *Plan, *bzimage.LinuxParams) {
	t.Helper()
	p, err := NewLinuxPlan(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mem := bytes.Repeat([]byte{0xa5}, int(cfg.MemBytes))
	if err := Apply(p, mem); err != nil {
		t.Fatal(err)
	}
	var bp bzimage.LinuxParams
	if err := binary.Read(bytes.NewReader(mem[p.StartInfo:p.StartInfo+zeroPageSize]), binary.LittleEndian, &bp); err != nil {
		t.Fatal(err)
	}
	return mem, p, &bp
}

func TestLinuxPlan(t *testing.T) {
	img, err := ParseLinux("vmlinuz", gt.BzImage())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		memMB      uint64
		initrd     int
		vcpus      int
		wantInitrd uint64 // GPA; 0 when none
	}{
		{32, 0, 1, 0},
		{64, 5000, 2, 64<<20 - 2*pageSize},
		{256, 1 << 20, 16, 255 << 20},
		{3072, 4096, 1, 2048<<20 - pageSize}, // initrd_addr_max 0x7fffffff
	} {
		t.Run(fmt.Sprintf("%dMiB-initrd%d-vcpus%d", tc.memMB, tc.initrd, tc.vcpus), func(t *testing.T) {
			initrd := bytes.Repeat([]byte{0x17}, tc.initrd)
			cmdline := "console=ttyS0 earlyprintk=serial,ttyS0"
			cfg := LinuxConfig{MemBytes: tc.memMB << 20, Cmdline: cmdline, Initrd: initrd, VCPUs: tc.vcpus}
			if tc.memMB > 256 {
				checkLinuxPlanOnly(t, img, cfg, tc.wantInitrd)
				return
			}
			mem, p, bp := linuxBoot(t, img, cfg)
			checkLinuxStart(t, p)
			checkZeroPage(t, mem, img, bp, cfg, tc.wantInitrd)
			if !bytes.Equal(mem[linuxLoadAddr:linuxLoadAddr+len(img.Kernel)], img.Kernel) {
				t.Error("kernel not at 1 MiB")
			}
			if tc.initrd > 0 && !bytes.Equal(mem[tc.wantInitrd:tc.wantInitrd+uint64(tc.initrd)], initrd) {
				t.Error("initrd bytes not at ramdisk_image")
			}
			checkACPI(t, mem, tc.vcpus)
		})
	}
}

// checkLinuxPlanOnly checks where a big domain's initrd goes without
// applying the plan to gigabytes of test memory.
func checkLinuxPlanOnly(t *testing.T, img *LinuxImage, cfg LinuxConfig, wantInitrd uint64) {
	p, err := NewLinuxPlan(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Modules) != 1 || p.Modules[0].GPA != wantInitrd {
		t.Fatalf("initrd at %+v, want %#x", p.Modules, wantInitrd)
	}
	if last := p.Writes[len(p.Writes)-1]; last.End() > cfg.MemBytes {
		t.Fatalf("last write ends at %#x, past %#x", last.End(), cfg.MemBytes)
	}
}

func checkLinuxStart(t *testing.T, p *Plan) {
	t.Helper()
	if p.Entry != 0x100000 || p.StartInfo != 0x7000 || p.StartReg != StartESI {
		t.Errorf("entry %#x, start info %#x in %v; want 0x100000, 0x7000 in ESI", p.Entry, p.StartInfo, p.StartReg)
	}
	for i := 1; i < len(p.Writes); i++ {
		if p.Writes[i-1].End() > p.Writes[i].GPA {
			t.Errorf("writes %d and %d overlap or are out of order: %#x > %#x", i-1, i, p.Writes[i-1].End(), p.Writes[i].GPA)
		}
	}
}

func checkZeroPage(t *testing.T, mem []byte, img *LinuxImage, bp *bzimage.LinuxParams, cfg LinuxConfig, initrd uint64) {
	t.Helper()
	if bp.LoaderType != 0xff || bp.Loaderflags != loadedHigh|canUseHeap || bp.KernelStart != 0x100000 {
		t.Errorf("type_of_loader %#x loadflags %#x code32_start %#x", bp.LoaderType, bp.Loaderflags, bp.KernelStart)
	}
	if bp.Paramblocksignature != bzimage.HeaderMagic || bp.Paramblockversion != img.Header.Protocolversion {
		t.Errorf("setup header not copied: magic %q version %#x", bp.Paramblocksignature, bp.Paramblockversion)
	}
	if bp.InitrdAddrMax != img.Header.InitrdAddrMax || bp.PrefAddress != img.Header.PrefAddress || bp.HardwareSubarch != 0 {
		t.Errorf("initrd_addr_max %#x pref_address %#x subarch %d", bp.InitrdAddrMax, bp.PrefAddress, bp.HardwareSubarch)
	}
	cl, _, _ := strings.Cut(string(mem[bp.CLPtr:bp.CLPtr+MaxCmdline+1]), "\x00")
	if cl != cfg.Cmdline {
		t.Errorf("command line %q, want %q", cl, cfg.Cmdline)
	}
	if uint64(bp.Initrdstart) != initrd || uint64(bp.Initrdsize) != uint64(len(cfg.Initrd)) {
		t.Errorf("ramdisk_image %#x size %d, want %#x size %d", bp.Initrdstart, bp.Initrdsize, initrd, len(cfg.Initrd))
	}
	if initrd != 0 && (initrd%pageSize != 0 || initrd < gt.BzPref+gt.BzInitSize) {
		t.Errorf("initrd at %#x: not page aligned or inside the decompression area", initrd)
	}
	want := []bzimage.E820Entry{
		{Addr: 0, Size: 0x9f000, MemType: bzimage.RAM},
		{Addr: 0x9f000, Size: 0x61000, MemType: bzimage.Reserved},
		{Addr: 0x100000, Size: cfg.MemBytes - 0x100000, MemType: bzimage.RAM},
	}
	if bp.E820MapNr != 3 || fmt.Sprint(bp.E820Map[:3]) != fmt.Sprint(want) {
		t.Errorf("e820 %d entries %v, want %v", bp.E820MapNr, bp.E820Map[:bp.E820MapNr], want)
	}
	if rsdp := binary.LittleEndian.Uint64(mem[0x7000+0x70:]); rsdp < ACPIBase || rsdp >= HighRAM {
		t.Errorf("acpi_rsdp_addr %#x, want one in the BIOS area", rsdp)
	}
}

func TestLinuxPlanRefusals(t *testing.T) {
	img, err := ParseLinux("vmlinuz", gt.BzImage())
	if err != nil {
		t.Fatal(err)
	}
	lowMax, err := ParseLinux("vmlinuz", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.InitrdAddrMax = 0x1ffffff }}.Build())
	if err != nil {
		t.Fatal(err)
	}
	short, err := ParseLinux("vmlinuz", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.CmdLineSize = 10 }}.Build())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		img  *LinuxImage
		cfg  LinuxConfig
		want string
	}{
		{"kernel-too-big", img, LinuxConfig{MemBytes: 16 << 20},
			"vmlinuz: kernel needs at least 24 MiB of guest RAM (it decompresses to [0x1000000, +0x800000), init_size), has 16 MiB"},
		{"initrd-too-big", img, LinuxConfig{MemBytes: 32 << 20, Initrd: make([]byte, 8<<20+1)},
			"vmlinuz: kernel and a 9 MiB initrd need at least 33 MiB of guest RAM, has 32 MiB"},
		{"initrd-above-max", lowMax, LinuxConfig{MemBytes: 64 << 20, Initrd: make([]byte, 9<<20)},
			"initrd of 9 MiB does not fit between the kernel's end 0x1800000 and initrd_addr_max 0x1ffffff"},
		{"memory-too-big", img, LinuxConfig{MemBytes: 4 << 30}, "a Linux domain has at most 3072 MiB"},
		{"cmdline-over-cmdline_size", short, LinuxConfig{MemBytes: 32 << 20, Cmdline: "console=ttyS0"},
			"command line is 13 bytes, the kernel takes at most 10 (cmdline_size)"},
		{"cmdline-nul", img, LinuxConfig{MemBytes: 32 << 20, Cmdline: "a\x00b"}, "NUL"},
		{"cmdline-long", img, LinuxConfig{MemBytes: 32 << 20, Cmdline: strings.Repeat("x", 1024)}, "at most 1023"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewLinuxPlan(tc.img, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewLinuxPlan = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestLinuxInitrdBelowMax: with more RAM than initrd_addr_max reaches, the
// initrd ends at initrd_addr_max + 1, not at the top of RAM.
func TestLinuxInitrdBelowMax(t *testing.T) {
	img, err := ParseLinux("vmlinuz", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.InitrdAddrMax = 0x3ffffff }}.Build())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewLinuxPlan(img, LinuxConfig{MemBytes: 256 << 20, Initrd: make([]byte, 3*pageSize+1)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Modules[0].GPA, uint64(0x4000000-4*pageSize); got != want {
		t.Fatalf("initrd at %#x, want %#x (the page-aligned place ending at or below initrd_addr_max)", got, want)
	}
}
