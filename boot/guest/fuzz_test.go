package guest

import (
	"testing"

	gt "grove/boot/guest/guesttest"
)

// FuzzParseImage feeds arbitrary bytes to ParseImage and, for images it
// accepts, plans and applies them: none of it may panic, and an accepted
// image must keep the promises Plan relies on.
func FuzzParseImage(f *testing.F) {
	f.Add(gt.Simple(false))
	f.Add(gt.Simple(true))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := ParseImage("fuzz.elf", data)
		if err != nil {
			return
		}
		for i, s := range img.Segments {
			if uint64(len(s.FileData)) > s.Memsz || s.End() < s.Paddr || i > 0 && img.Segments[i-1].End() > s.Paddr {
				t.Fatalf("accepted bad segment %d: %+v", i, s)
			}
		}
		mem := roundUp(img.End(), pageSize) + pageSize
		if mem > 8<<20 {
			return // too big to apply on every run
		}
		p, err := NewPlan(img, mem, "fuzz", [][]byte{data[:min(len(data), 64)]})
		if err != nil {
			return
		}
		if err := Apply(p, make([]byte, p.Modules[0].GPA+p.Modules[0].Size)); err != nil {
			t.Fatalf("plan does not fit the memory it was made for: %v", err)
		}
	})
}

// FuzzParseLinux feeds arbitrary bytes to the Linux loader's entry point
// (ParseLinux, u-root's parser included) and plans what it accepts: nothing
// may panic, and an accepted image's plan must stay inside the memory it
// was made for, in order, without overlaps.
func FuzzParseLinux(f *testing.F) {
	f.Add(gt.BzImage())
	f.Add(gt.BzSpec{Payload: []byte{0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}.Build())
	f.Add(gt.BzSpec{Cut: 40}.Build())
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := ParseLinux("fuzz", data)
		if err != nil {
			return
		}
		if uint64(len(img.Kernel)) != uint64(img.Header.Syssize)*16 || len(img.Setup) > hdrMaxEnd-hdrStart {
			t.Fatalf("accepted kernel of %d bytes for syssize %#x, setup of %d", len(img.Kernel), img.Header.Syssize, len(img.Setup))
		}
		mem := roundUp(runStart(img)+uint64(img.Header.InitSize), 1<<20) + 1<<20
		p, err := NewLinuxPlan(img, LinuxConfig{MemBytes: mem, Cmdline: "fuzz", Initrd: data[:min(len(data), 4096)], VCPUs: 2})
		if err != nil {
			return
		}
		for i, w := range p.Writes {
			if w.End() > mem || i > 0 && p.Writes[i-1].End() > w.GPA {
				t.Fatalf("write %d [%#x, %#x) out of order or past %#x", i, w.GPA, w.End(), mem)
			}
		}
	})
}

// FuzzParseMultiboot feeds arbitrary bytes to the multiboot loader and
// plans what it accepts: nothing may panic, an accepted image's segments
// must be ordered and disjoint with its entry inside one, and its plan must
// stay inside the memory it was made for, in order.
func FuzzParseMultiboot(f *testing.F) {
	f.Add(gt.MultibootELF(0x400000))
	f.Add(gt.MultibootAoutImage(0x8000))
	f.Add(gt.MultibootHeader(gt.MultibootAout, 0x100000, 0x100000, 0, 0x100100, 0x100000))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := ParseMultiboot("fuzz.flat", data)
		if err != nil {
			return
		}
		for i, s := range img.Segments {
			if uint64(len(s.FileData)) > s.Memsz || s.End() < s.Paddr || i > 0 && img.Segments[i-1].End() > s.Paddr {
				t.Fatalf("accepted bad segment %d: %+v", i, s)
			}
		}
		if !segmentsContain(img.Segments, uint64(img.Entry)) {
			t.Fatalf("accepted entry %#x outside the image", img.Entry)
		}
		mem := roundUp(max(img.End(), 1<<20), 1<<20) + 1<<20
		if mem > 64<<20 {
			return // too big to check on every run
		}
		p, err := NewMultibootPlan(img, MultibootConfig{MemBytes: mem, Cmdline: "fuzz", Modules: [][]byte{data[:min(len(data), 64)]}, VCPUs: 2})
		if err != nil {
			return
		}
		for i, w := range p.Writes {
			if w.End() > mem || i > 0 && p.Writes[i-1].End() > w.GPA {
				t.Fatalf("write %d [%#x, %#x) out of order or past %#x", i, w.GPA, w.End(), mem)
			}
		}
	})
}
