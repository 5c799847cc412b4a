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
