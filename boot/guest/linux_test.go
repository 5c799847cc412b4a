package guest

import (
	"bytes"
	"strings"
	"testing"

	gt "grove/boot/guest/guesttest"

	"github.com/u-root/u-root/pkg/boot/bzimage"
)

func TestIsBzImage(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want bool
	}{
		{"bzImage", gt.BzImage(), true},
		{"elf", []byte("\x7fELF" + strings.Repeat("\x00", 0x300)), false},
		{"short", []byte("HdrS"), false},
		{"magic-elsewhere", append(make([]byte, 0x203), "HdrS"...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsBzImage(tc.data); got != tc.want {
				t.Fatalf("IsBzImage = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseLinuxRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"elf", []byte("\x7fELF" + strings.Repeat("\x00", 0x300)), `not a bzImage (no "HdrS"`},
		{"header-cut", gt.BzImage()[:0x240], "setup header cut short (576 bytes)"},
		{"protocol-2.08", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.Protocolversion = 0x0208 }}.Build(),
			"boot protocol 2.08 is too old: Grove needs 2.10 or later"},
		{"protocol-1.00", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.Protocolversion = 0x0100 }}.Build(),
			"boot protocol 1.00 is too old"},
		{"zimage", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.Loadflags = 0 }}.Build(), "a zImage (LOADED_HIGH clear)"},
		{"code32-elsewhere", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.Code32Start = 0x200000 }}.Build(),
			"code32_start is 0x200000: Grove loads the kernel at 0x100000"},
		{"no-init-size", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.InitSize = 0 }}.Build(), "init_size is 0"},
		{"payload-past-end", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.PayloadSize = 0xffffff00 }}.Build(),
			"payload [0x100, +0xffffff00) after 3 setup sectors runs past the end"},
		{"setup-past-end", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.SetupSects = 200 }}.Build(), "runs past the end"},
		{"payload-tiny", gt.BzSpec{Payload: []byte{0x1f, 0x8b}}.Build(), "payload is 2 bytes"},
		{"payload-unknown", gt.BzSpec{Payload: bytes.Repeat([]byte{'?'}, 64)}.Build(), "payload starts 3f 3f 3f 3f: not gzip"},
		{"syssize-past-end", gt.BzSpec{Mutate: func(h *bzimage.LinuxHeader) { h.Syssize += 1 }}.Build(),
			"protected-mode kernel (syssize"},
		{"file-cut", gt.BzSpec{Cut: 20}.Build(), "runs past the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := ParseLinux("vmlinuz", tc.data)
			if err == nil {
				t.Fatalf("ParseLinux accepted it: %+v", img.Header)
			}
			if !strings.HasPrefix(err.Error(), "vmlinuz: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want one starting %q and containing %q", err, "vmlinuz: ", tc.want)
			}
		})
	}
}

func TestParseLinux(t *testing.T) {
	data := gt.BzImage()
	img, err := ParseLinux("vmlinuz", data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img.Kernel, data[4*512:]) {
		t.Errorf("Kernel is %d bytes at the wrong place, want the %d after 4 setup sectors", len(img.Kernel), len(data)-4*512)
	}
	if want := data[0x1f1:0x26c]; !bytes.Equal(img.Setup, want) {
		t.Errorf("Setup is [0x1f1, +%#x), want up to 0x26c (0x202 + the jump's 0x6a)", len(img.Setup))
	}
	if img.Header.InitSize != gt.BzInitSize || img.Header.PrefAddress != gt.BzPref {
		t.Errorf("header init_size %#x pref_address %#x", img.Header.InitSize, img.Header.PrefAddress)
	}
}
