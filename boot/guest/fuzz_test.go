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
