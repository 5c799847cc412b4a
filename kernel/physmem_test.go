package kernel

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

const pg = pageSize

// freeSet lists the pages the bitmap marks free.
func freeSet(a *physAlloc) []uint64 {
	var out []uint64
	for p := uint64(0); p < a.npages; p++ {
		if !a.test(p) {
			out = append(out, p)
		}
	}
	return out
}

// checkCounters verifies free matches the bitmap, the tail bits past npages
// stay set, and free <= total and min <= free once anything was allocated.
func checkCounters(t *testing.T, a *physAlloc) {
	t.Helper()
	if got := uint64(len(freeSet(a))); got != a.free {
		t.Fatalf("free counter %d, bitmap has %d free pages", a.free, got)
	}
	for p := a.npages; p < (a.npages+63)/64*64; p++ {
		if !a.test(p) {
			t.Fatalf("tail bit %d past npages %d is clear", p, a.npages)
		}
	}
	if a.free > a.total {
		t.Fatalf("free %d > total %d", a.free, a.total)
	}
	if a.min != ^uint64(0) && a.min > a.free {
		t.Fatalf("min %d > free %d", a.min, a.free)
	}
}

func pages(ps ...uint64) []uint64 { return ps }

func TestPhysReleaseRounding(t *testing.T) {
	const top = ^uint64(0)
	for _, tc := range []struct {
		base, length uint64
		want         []uint64
	}{
		{0, 2 * pg, pages(0, 1)},
		{1, 3 * pg, pages(1, 2)},
		{100, 200, nil},
		{pg - 1, pg + 1, pages(1)},
		{3 * pg, 0, nil},
		{14 * pg, 10 * pg, pages(14, 15)},
		{20 * pg, pg, nil},
		{top - 100, 50, nil},
		{15 * pg, top - 15*pg, pages(15)},
		{15*pg + 1, top - 15*pg - 1, nil},
	} {
		t.Run(fmt.Sprintf("base=%#x/len=%#x", tc.base, tc.length), func(t *testing.T) {
			a := newTestAlloc(t, 16)
			a.release(tc.base, tc.length)
			if got := freeSet(a); !slices.Equal(got, tc.want) {
				t.Fatalf("free pages %v, want %v", got, tc.want)
			}
			if a.total != uint64(len(tc.want)) {
				t.Fatalf("total %d, want %d", a.total, len(tc.want))
			}
			checkCounters(t, a)
		})
	}
}

func TestPhysReserveRounding(t *testing.T) {
	const top = ^uint64(0)
	for _, tc := range []struct {
		base, length uint64
		want         []uint64 // pages reserved out of 16 free ones
	}{
		{2 * pg, pg, pages(2)},
		{2*pg + 1, 1, pages(2)},
		{3*pg - 1, 2, pages(2, 3)},
		{5 * pg, 0, nil},
		{pg - 1, pg + 2, pages(0, 1, 2)},
		{15 * pg, 4 * pg, pages(15)},
		{14 * pg, top - 14*pg + 1, pages(14, 15)}, // ends exactly at 2^64
		{14 * pg, top, pages(14, 15)},             // runs past 2^64
		{top - 10, 5, nil},
	} {
		t.Run(fmt.Sprintf("base=%#x/len=%#x", tc.base, tc.length), func(t *testing.T) {
			a := newTestAlloc(t, 16)
			a.release(0, 16*pg)
			a.reserve(tc.base, tc.length)
			var got []uint64
			for p := uint64(0); p < 16; p++ {
				if a.test(p) {
					got = append(got, p)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("reserved pages %v, want %v", got, tc.want)
			}
			if want := 16 - uint64(len(tc.want)); a.free != want || a.total != want {
				t.Fatalf("free %d total %d, want %d", a.free, a.total, want)
			}
			checkCounters(t, a)
		})
	}
}

func TestPhysAllocExhaustion(t *testing.T) {
	for _, npages := range []uint64{1, 63, 64, 65, 200, 1000} {
		t.Run(fmt.Sprintf("npages=%d", npages), func(t *testing.T) {
			a := newTestAlloc(t, npages)
			a.release(0, npages*pg)
			reserved := map[uint64]bool{}
			for p := uint64(0); p < npages; p += 7 {
				a.reserve(p*pg, 1)
				reserved[p] = true
			}
			want := npages - uint64(len(reserved))
			got := map[uint64]bool{}
			for {
				pa, err := a.alloc()
				if errors.Is(err, errNoMemory) {
					break
				}
				if err != nil {
					t.Fatalf("alloc: %v", err)
				}
				p := uint64(pa) / pg
				if uint64(pa)%pg != 0 || p >= npages || reserved[p] || got[p] {
					t.Fatalf("alloc gave %#x (reserved %v, duplicate %v)", pa, reserved[p], got[p])
				}
				got[p] = true
			}
			if uint64(len(got)) != want || a.free != 0 || a.min != 0 || a.total != want {
				t.Fatalf("got %d pages, free %d min %d total %d; want %d pages", len(got), a.free, a.min, a.total, want)
			}
			if _, err := a.allocRun(1, 1); !errors.Is(err, errNoMemory) {
				t.Fatalf("allocRun on a full allocator: %v", err)
			}
			checkCounters(t, a)
		})
	}
}

func TestPhysFreePageErrors(t *testing.T) {
	a := newTestAlloc(t, 100)
	a.release(0, 50*pg)
	pa, err := a.alloc()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pa   uintptr
	}{
		{"free page", 10 * pg},
		{"misaligned", pa + 8},
		{"out of range", 100 * pg},
		{"far out of range", 1 << 62},
		{"tail bit page", 127 * pg},
	} {
		t.Run(fmt.Sprintf("%s/%#x", tc.name, tc.pa), func(t *testing.T) {
			before := *a
			if err := a.freePage(tc.pa); err == nil {
				t.Fatalf("freePage(%#x) succeeded", tc.pa)
			}
			if *a != before {
				t.Fatalf("failed freePage changed the allocator: %+v -> %+v", before, *a)
			}
		})
	}
	if err := a.freePage(pa); err != nil {
		t.Fatalf("freePage of an allocated page: %v", err)
	}
	if err := a.freePage(pa); err == nil {
		t.Fatal("double free not reported")
	}
	checkCounters(t, a)
}

func TestPhysAllocRun(t *testing.T) {
	for _, tc := range []struct {
		n, align uint64
		wantErr  bool
	}{
		{1, 1, false},
		{3, 1, false},
		{4, 4, false},
		{8, 8, false},
		{16, 16, false},
		{17, 1, false},
		{32, 32, false},
		{64, 64, true},
		{65, 1, false},
		{66, 1, true},
		{64, 128, true},
		{0, 1, true},
		{1, 0, true},
		{1, ^uint64(0), true},
		{1, 1 << 63, true},
		{^uint64(0), 1, true},
	} {
		t.Run(fmt.Sprintf("n=%d/align=%d", tc.n, tc.align), func(t *testing.T) {
			// Free: pages 1..5, 9..12, 16..80, 100..199 minus 150.
			a := newTestAlloc(t, 200)
			for _, r := range [][2]uint64{{1, 5}, {9, 4}, {16, 65}, {100, 100}} {
				a.release(r[0]*pg, r[1]*pg)
			}
			a.reserve(150*pg, 1)
			before := freeSet(a)
			pa, err := a.allocRun(tc.n, tc.align)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("allocRun = %#x, want an error", pa)
				}
				if !slices.Equal(freeSet(a), before) {
					t.Fatal("failed allocRun changed the bitmap")
				}
				return
			}
			if err != nil {
				t.Fatalf("allocRun: %v", err)
			}
			first := uint64(pa) / pg
			if uint64(pa)%pg != 0 || first%tc.align != 0 {
				t.Fatalf("run at %#x not aligned to %d pages", pa, tc.align)
			}
			for p := first; p < first+tc.n; p++ {
				if !slices.Contains(before, p) || !a.test(p) {
					t.Fatalf("run page %d was not free or is not now in use", p)
				}
			}
			if got := len(before) - len(freeSet(a)); uint64(got) != tc.n {
				t.Fatalf("allocRun took %d pages, want %d", got, tc.n)
			}
			if a.min != a.free {
				t.Fatalf("min %d after allocRun, want free %d", a.min, a.free)
			}
			checkCounters(t, a)
		})
	}
}
