package hv

import (
	"errors"
	"strings"
	"testing"

	"grove/boot/guest"
	gt "grove/boot/guest/guesttest"
	"grove/errno"
)

// Creation's checks and undo on the host. Building a domain needs kernel
// pages, which a host process cannot get (kernel.AllocPages fails: Linux has
// no system call 0x1005), so a create that gets that far fails in build.

func TestCreateDomainRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		taken   int  // ids of the 2 taken beforehand
		dom0    bool // a control domain exists beforehand
		wantErr error
		want    string
	}{
		{"ids-exhausted", Config{Name: "web1", MemoryMB: 4}, 2, false, errno.ENOSPC, `domain "web1": table full (ENOSPC)`},
		{"second-dom0", Config{Name: "ctl", MemoryMB: 4, Privileged: true}, 0, true, nil, `domain "ctl": there is already a control domain`},
		{"dom0-despite-full-ids", Config{Name: "ctl", MemoryMB: 4, Privileged: true}, 2, true, nil, "already a control domain"},
		{"memory-too-small", Config{Name: "tiny", MemoryMB: 1}, 0, false, nil, `domain "tiny": memory 1 MiB out of range`},
		{"memory-too-large", Config{Name: "huge", MemoryMB: 16385}, 0, false, nil, "out of range 2..16384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHypervisor(0, 2, 1)
			for i := 0; i < tc.taken; i++ {
				if _, err := h.ids.alloc(); err != nil {
					t.Fatal(err)
				}
			}
			if tc.dom0 {
				h.domains[0] = &Domain{Name: "dom0", Privileged: true, hv: h}
			}
			d, err := h.CreateDomain(tc.cfg)
			if d != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CreateDomain = %v, %v; want an error containing %q", d, err, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tc.wantErr)
			}
			if h.ids.n != tc.taken {
				t.Fatalf("%d ids taken after the refusal, want %d", h.ids.n, tc.taken)
			}
		})
	}
}

// TestCreateDomainBuildFailureFreesID: a create that fails while building
// leaves neither a registered domain nor a taken id behind, so the one id of
// a one-id space can be tried again and again (never ENOSPC).
func TestCreateDomainBuildFailureFreesID(t *testing.T) {
	h := newHypervisor(0, 1, 1)
	for i := 0; i < 3; i++ {
		_, err := h.CreateDomain(Config{Name: "nopages", MemoryMB: 4})
		if err == nil || errors.Is(err, errno.ENOSPC) {
			t.Fatalf("try %d: %v, want a build failure", i, err)
		}
		t.Logf("try %d: %v", i, err)
		if len(h.domains) != 0 || h.ids.n != 0 {
			t.Fatalf("try %d: %d domains registered, %d ids taken after a failed build", i, len(h.domains), h.ids.n)
		}
	}
	if ds := h.Domains(); len(ds) != 0 {
		t.Fatalf("Domains() = %v", ds)
	}
}

// TestPlanImagePicksLoader: a bzImage boots through Linux's protocol with
// boot_params in ESI, a multiboot kernel with its information in EBX (and
// before a PVH note, as QEMU does), an ELF through PVH with start_info in
// EBX, and an initrd with a PVH image is refused (EINVAL) rather than
// dropped.
func TestPlanImagePicksLoader(t *testing.T) {
	pvh := gt.Simple(false)
	mbPVH := gt.ELF(gt.Spec{Segments: []gt.Segment{{Paddr: 0x100000, Data: append(gt.MultibootHeader(0), make([]byte, 32)...)}},
		Notes: []gt.Note{gt.PVHNote(0x100000)}, Entry: 0x100010})
	for _, tc := range []struct {
		name      string
		cfg       Config
		wantReg   guest.StartReg
		wantEntry uint32
		wantErr   string
	}{
		{"bzimage", Config{Name: "linux", Image: gt.BzImage(), Initrd: []byte("070701"), VCPUs: 2}, guest.StartESI, 0x100000, ""},
		{"bzimage-no-initrd", Config{Name: "linux", Image: gt.BzImage()}, guest.StartESI, 0x100000, ""},
		{"pvh", Config{Name: "web1", Image: pvh}, guest.StartEBX, 0, ""},
		{"pvh-with-initrd", Config{Name: "web1", Image: pvh, Initrd: []byte{1}}, 0, 0, "an initrd is for a Linux bzImage or a multiboot kernel"},
		{"multiboot", Config{Name: "sieve", Image: gt.MultibootELF(0x400000), Initrd: []byte("NR_CPUS=1")}, guest.StartMultiboot, 0x40000c, ""},
		{"multiboot-and-pvh", Config{Name: "both", Image: mbPVH}, guest.StartMultiboot, 0x100010, ""},
		{"bad-multiboot", Config{Name: "mb", Image: gt.MultibootHeader(1 << 2)}, 0, 0, "mb: multiboot header asks for a video mode"},
		{"bad-bzimage", Config{Name: "linux", Image: gt.BzSpec{Cut: 32}.Build()}, 0, 0, "linux: payload [0x100, +0x40) after 3 setup sectors runs past the end"},
		{"neither", Config{Name: "junk", Image: []byte("hello")}, 0, 0, "junk: not an ELF image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := planImage(64<<20, tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("planImage = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.StartReg != tc.wantReg || tc.wantEntry != 0 && p.Entry != tc.wantEntry {
				t.Fatalf("start %v at %#x, want %v at %#x", p.StartReg, p.Entry, tc.wantReg, tc.wantEntry)
			}
		})
	}
}
