package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// qemuExitOK is what isa-debug-exit turns bootprobe's write of 0x10 into.
const qemuExitOK = 0x10<<1 | 1

func requireQEMU(t *testing.T) string {
	t.Helper()
	if os.Getenv("GROVE_SKIP_QEMU") == "1" {
		t.Skip("GROVE_SKIP_QEMU=1")
	}
	q, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Fatal("qemu-system-x86_64 not found: apt-get install -y qemu-system-x86 (or set GROVE_SKIP_QEMU=1)")
	}
	return q
}

// bootQEMU runs the plain Grove boot line plus extra and returns the serial
// output once the guest exits through isa-debug-exit.
func bootQEMU(t *testing.T, extra ...string) string {
	t.Helper()
	q := requireQEMU(t)
	args := append([]string{"-machine", "q35", "-cpu", "max", "-m", "512M", "-nographic", "-no-reboot",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // OVMF under TCG: ~20 s to GRUB
	defer cancel()
	cmd := exec.CommandContext(ctx, q, args...)
	t.Logf("running: %s %s", q, strings.Join(args, " "))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	serial := string(out)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != qemuExitOK {
		t.Fatalf("qemu: %v (ctx %v), want exit status %d; serial tail:\n%s", err, ctx.Err(), qemuExitOK, tail(serial))
	}
	t.Logf("qemu exited %d after %v", qemuExitOK, time.Since(start).Round(time.Millisecond))
	return serial
}

func tail(s string) string {
	if len(s) > 2048 {
		s = "..." + s[len(s)-2048:]
	}
	return s
}

// expectMagic checks the line bootprobe's entry64 prints.
func expectMagic(t *testing.T, serial string, magic uint32) {
	t.Helper()
	want := fmt.Sprintf("BOOT64 magic=%08X info=", magic)
	i := strings.Index(serial, want)
	if i < 0 {
		t.Fatalf("serial lacks %q; tail:\n%s", want, tail(serial))
	}
	if info := serial[i+len(want):]; strings.HasPrefix(info, "00000000") {
		t.Errorf("info pointer is zero: %q", info[:min(len(info), 8)])
	}
}

func patchProbeFile(t *testing.T, p Protocol) string {
	t.Helper()
	_, in := buildProbe(t)
	opt := probeOpts
	opt.Protocols = p
	r, err := Patch(in, opt)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "grove.elf")
	if err := os.WriteFile(path, r.Image, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// QEMU 7.2's -kernel tries multiboot before PVH, so the default image
// boots via multiboot and only a PVH-only image exercises the PVH entry.
// QEMU has no multiboot2 loader: TestGRUBISO covers that entry.
func TestQEMUBoot(t *testing.T) {
	for _, tt := range []struct {
		protos Protocol
		magic  uint32
	}{
		{allProtocols, MultibootBootloaderMagic},
		{Multiboot | PVH, MultibootBootloaderMagic},
		{Multiboot, MultibootBootloaderMagic},
		{PVH, XenHVMStartMagic},
	} {
		t.Run(tt.protos.String(), func(t *testing.T) {
			t.Parallel()
			img := patchProbeFile(t, tt.protos)
			expectMagic(t, bootQEMU(t, "-kernel", img), tt.magic)
		})
	}
}

// TestGRUBISO boots the default image from a boot/mkiso.sh ISO through
// GRUB's multiboot2 loader, the real-hardware path, under SeaBIOS and under
// UEFI (OVMF): the probe must see the multiboot2 magic either way.
func TestGRUBISO(t *testing.T) {
	requireQEMU(t)
	img := patchProbeFile(t, allProtocols)
	iso := filepath.Join(t.TempDir(), "grove.iso")
	cmd := exec.Command("sh", "../mkiso.sh", img, iso, "selftest")
	t.Logf("running: %s", strings.Join(cmd.Args, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		if _, lerr := exec.LookPath("grub-mkrescue"); lerr != nil && os.Getenv("GROVE_SKIP_ISO") == "1" {
			t.Skip("grub-mkrescue missing and GROVE_SKIP_ISO=1")
		}
		t.Fatalf("mkiso.sh: %v\n%s(apt-get install -y grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools, or set GROVE_SKIP_ISO=1)", err, out)
	}
	for _, fw := range []string{"bios", "uefi"} {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			args := []string{"-cdrom", iso}
			if fw == "uefi" {
				args = append(args, uefiArgs(t)...)
			}
			expectMagic(t, bootQEMU(t, args...), Multiboot2BootloaderMagic)
		})
	}
}

// uefiArgs returns the pflash drives for OVMF with a private copy of its
// variable store.
func uefiArgs(t *testing.T) []string {
	const code, vars = "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"
	b, err := os.ReadFile(vars)
	if err != nil {
		if os.Getenv("GROVE_SKIP_ISO") == "1" {
			t.Skip("OVMF missing and GROVE_SKIP_ISO=1")
		}
		t.Fatalf("OVMF: %v (apt-get install -y ovmf, or set GROVE_SKIP_ISO=1)", err)
	}
	mine := filepath.Join(t.TempDir(), "OVMF_VARS.fd")
	if err := os.WriteFile(mine, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + code,
		"-drive", "if=pflash,format=raw,unit=1,file=" + mine}
}
