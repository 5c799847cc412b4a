package qemu

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The ISO from boot/mkiso.sh boots through GRUB's multiboot2 loader under
// SeaBIOS and under UEFI (OVMF), on two CPUs.

const (
	ovmfCode = "/usr/share/OVMF/OVMF_CODE.fd"
	ovmfVars = "/usr/share/OVMF/OVMF_VARS.fd"
)

// requireFiles fails for a missing tool or file, or skips only when
// GROVE_SKIP_MISSING=1 asks for it (`make prereqs` installs them all).
func requireFiles(t *testing.T, files ...string) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("grub-mkrescue"); err != nil {
		missing = append(missing, "grub-mkrescue")
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing %s: run `make prereqs` (Debian: grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools ovmf)",
		strings.Join(missing, ", "))
	if os.Getenv("GROVE_SKIP_MISSING") == "1" {
		t.Skip(msg + "; skipping because GROVE_SKIP_MISSING=1")
	}
	t.Fatal(msg)
}

// buildISO wraps the test image in an ISO with the given command line.
func buildISO(t *testing.T, im Images, cmdline string) string {
	t.Helper()
	iso := filepath.Join(t.TempDir(), "grove.iso")
	cmd := exec.Command("../boot/mkiso.sh", im.Grove, iso, cmdline)
	t.Logf("running: %s", strings.Join(cmd.Args, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkiso.sh: %v\n%s", err, out)
	}
	return iso
}

func TestISOBootBIOS(t *testing.T) {
	requireFiles(t, "/usr/lib/grub/i386-pc/multiboot2.mod")
	im := Build(t)
	iso := buildISO(t, im, "selftest=kernel/goroutines")
	r := Start(t, "iso-bios", Boot{Accel: MultiAccel, CDROM: iso, Args: []string{"-smp", "2"}})
	r.Expect(onlineLine(0, 1), time.Minute) // the MADT from GRUB's ACPI tag
	r.Expect(`boot protocol multiboot2, command line "selftest=kernel/goroutines"`, time.Minute)
	r.Expect("selftest: 1 passed, 0 failed", time.Minute)
	r.WantStatus(StatusSuccess)
	checkMemoryMap(t, r.All(), im.Grove)
}

// TestISOBootUEFI boots OVMF -> GRUB (x86_64-efi) -> multiboot2 and runs
// every self-test, on UEFI's memory map. OVMF under TCG takes 10-20 s to
// reach GRUB. Single-threaded TCG: the hypervisor's self-tests run guests,
// which QEMU 7.2's multi-threaded SVM sometimes corrupts (docs/qemu-tcg.md).
func TestISOBootUEFI(t *testing.T) {
	requireFiles(t, "/usr/lib/grub/x86_64-efi/multiboot2.mod", ovmfCode, ovmfVars)
	im := Build(t)
	iso := buildISO(t, im, "selftest")
	vars := filepath.Join(t.TempDir(), "OVMF_VARS.fd") // OVMF writes its variables
	copyFile(t, ovmfVars, vars)
	r := Start(t, "iso-uefi", Boot{CDROM: iso, Timeout: 8 * time.Minute, Args: []string{"-smp", "2",
		"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + ovmfCode,
		"-drive", "if=pflash,format=raw,unit=1,file=" + vars}})
	r.Expect("Welcome to GRUB!", 3*time.Minute)
	r.Expect(onlineLine(0, 1), 2*time.Minute) // the MADT from GRUB's ACPI tag, under UEFI
	r.Expect(`boot protocol multiboot2, command line "selftest"`, 2*time.Minute)
	out := r.Expect("selftest: ", 5*time.Minute)
	out += r.Expect(" failed", 5*time.Second)
	if m := regexp.MustCompile(`selftest: (\d+) passed, 0 failed`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Fatalf("no clean selftest summary in:\n%s", r.Serial())
	}
	r.WantStatus(StatusSuccess)
	regions := checkMemoryMap(t, r.All(), im.Grove)
	// OVMF reports its ACPI tables and NVS store; BIOS-style maps from
	// SeaBIOS put ACPI in "reserved", so only UEFI must show them.
	if !hasType(regions, "ACPI") || !hasType(regions, "ACPI NVS") {
		t.Errorf("OVMF's memory map lacks ACPI or ACPI NVS regions:\n%v", regions)
	}
}

type region struct {
	base, end uint64 // inclusive end, as printed
	typ       string
}

var regionLine = regexp.MustCompile(`(?m)^  0x([0-9a-f]+)-0x([0-9a-f]+) (.+)$`)

// checkMemoryMap reads the banner's map and checks it is sane: sorted,
// non-overlapping, holding the loaded image in one usable region, and that
// the page allocator was given the usable pages above the image and nothing
// else: its total, printed in whole MiB, must match the map's to within the
// page bitmap and rounding (1 MiB), while OVMF marks ~5 MiB ACPI, NVS and
// reserved between usable regions.
func checkMemoryMap(t *testing.T, serial, imagePath string) []region {
	t.Helper()
	lo, hi := loadRange(t, imagePath)
	i, j := strings.Index(serial, "memory map:\n"), strings.Index(serial, "\nmemory: ")
	if i < 0 || j < i {
		t.Fatalf("no memory map in the banner:\n%s", serial)
	}
	var rs []region
	for _, m := range regionLine.FindAllStringSubmatch(serial[i:j], -1) {
		b, _ := strconv.ParseUint(m[1], 16, 64)
		e, _ := strconv.ParseUint(m[2], 16, 64)
		rs = append(rs, region{b, e, m[3]})
	}
	if len(rs) < 3 || !sort.SliceIsSorted(rs, func(a, b int) bool { return rs[a].base < rs[b].base }) {
		t.Fatalf("memory map has %d regions or is unsorted:\n%s", len(rs), serial[i:j])
	}
	var pages, top uint64
	image := false
	for k, r := range rs {
		if r.end < r.base || (k > 0 && r.base <= rs[k-1].end) {
			t.Errorf("region %d %#x-%#x is empty or overlaps the one before", k, r.base, r.end)
		}
		if r.typ != "usable" {
			continue
		}
		image = image || r.base <= lo && r.end >= hi-1
		first := max(r.base, hi) // memInit keeps [0, image end) for itself
		if r.end >= first {
			pages += (r.end+1)/4096 - (first+4095)/4096
		}
		top = r.end + 1
	}
	pages -= (top/4096/8 + 4095) / 4096 // the allocator's bitmap
	if !image {
		t.Errorf("the image's load range %#x-%#x is not in one usable region:\n%s", lo, hi, serial[i:j])
	}
	var usable int
	_, err := fmt.Sscanf(serial[j:], "\nmemory: %d MiB usable", &usable)
	if want := int(pages >> 8); err != nil || usable < want-1 || usable > want {
		t.Errorf("allocator has %d MiB (%v); the map's usable pages above the image make %d MiB", usable, err, want)
	}
	return rs
}

// loadRange is where a loader puts the image: its PT_LOADs, BSS included.
func loadRange(t *testing.T, path string) (lo, hi uint64) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lo = ^uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			lo, hi = min(lo, p.Paddr), max(hi, p.Paddr+p.Memsz)
		}
	}
	return lo, hi
}

func hasType(rs []region, typ string) bool {
	for _, r := range rs {
		if r.typ == typ {
			return true
		}
	}
	return false
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
