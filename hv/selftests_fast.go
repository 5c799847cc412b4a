package hv

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"time"

	"grove/kernel/selftest"
)

// In-image test of the exit fast path (fastexit.go): the cpuidscan guest
// stores what CPUID and unknown hypercalls answer it, run once with the
// fast path and once with Go alone; the two must have seen the same.

func init() {
	selftest.Register(selftest.Test{Name: "hv/fastexit-matches-go", Run: testFastMatchesGo, Timeout: 2 * time.Minute})
}

func testFastMatchesGo() error {
	h, err := selftestHV()
	if err != nil {
		return err
	}
	img, err := guestImage("cpuidscan")
	if err != nil {
		return err
	}
	gpa, n, err := dataSegment(img)
	if err != nil {
		return err
	}
	var seen [2][]byte
	var fast [2]uint64
	for i, p := range []exitPath{pathFast, pathGo} {
		d, err := h.runUnder(img, p, "selftest-scan-"+p.String(), func(*Domain) {})
		if err != nil {
			return err
		}
		seen[i] = make([]byte, n)
		err = d.ram.read(gpa, seen[i])
		_, fast[i] = d.exitCounts()
		if derr := h.Destroy(d); err == nil {
			err = derr
		}
		if err != nil {
			return err
		}
	}
	h.rcu.Barrier() // their pages are back before the next test counts them
	if bytes.Equal(seen[0][4:16], make([]byte, 12)) {
		return errors.New("no vendor string in CPUID leaf 0's result: the guest's results were not found")
	}
	if i := firstDiff(seen[0], seen[1]); i >= 0 {
		at := i &^ 15 // a CPUID pair's four registers, or four hypercall results
		return fmt.Errorf("results differ at byte %d: fast path % x, Go % x", i,
			seen[0][at:min(at+16, n)], seen[1][at:min(at+16, n)])
	}
	if fast[0] == 0 || fast[1] != 0 {
		return fmt.Errorf("fast-path exits: %d with the fast path, %d without", fast[0], fast[1])
	}
	return nil
}

// dataSegment finds a built-in guest's writable PT_LOAD, where its results
// are: guest-physical address (paging is off) and file size.
func dataSegment(img []byte) (uint64, int, error) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return 0, 0, err
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_W != 0 {
			return p.Paddr, int(p.Filesz), nil
		}
	}
	return 0, 0, errors.New("no writable segment in the guest image")
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
