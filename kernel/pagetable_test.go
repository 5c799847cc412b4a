package kernel

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"grove/x86/paging"
)

// fakePT is a paging.Alloc over a Go arena: table i lives at fake physical
// address fakePTBase + i*pageSize. Tables are separate allocations so
// pointers stay valid while the arena grows (the walker holds one across
// AllocTable).
type fakePT struct {
	arena  []*[512]uint64
	limit  int // allocTable fails once the arena holds this many (0: never)
	visits int // table() calls
}

const fakePTBase = 0x4000_0000

func (m *fakePT) AllocTable() (uint64, error) {
	if m.limit > 0 && len(m.arena) >= m.limit {
		return 0, errNoMemory
	}
	m.arena = append(m.arena, new([512]uint64))
	return fakePTBase + uint64(len(m.arena)-1)*pageSize, nil
}

func (m *fakePT) Table(pa uint64) *[512]uint64 {
	i := (pa - fakePTBase) / pageSize
	if pa%pageSize != 0 || pa < fakePTBase || i >= uint64(len(m.arena)) {
		panic(fmt.Sprintf("fakePT: table(%#x) is not a table", pa))
	}
	m.visits++
	return m.arena[i]
}

func (m *fakePT) FreeTable(uint64) { panic("fakePT: FreeTable is never called by these paths") }

func newTestPT(t *testing.T) (*pageTables[*fakePT], *fakePT) {
	m := &fakePT{}
	tt, err := paging.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return &pageTables[*fakePT]{tt}, m
}

// unmapCollect runs unmapRange and returns what release saw, va -> pa.
func unmapCollect(t *testing.T, pt *pageTables[*fakePT], start, end uintptr) map[uintptr]uintptr {
	t.Helper()
	got := map[uintptr]uintptr{}
	last := uintptr(0)
	pt.unmapRange(start, end, func(va, pa uintptr) {
		if _, dup := got[va]; dup || (len(got) > 0 && va <= last) {
			t.Fatalf("release(%#x) repeated or out of order (last %#x)", va, last)
		}
		got[va], last = pa, va
	})
	return got
}

const (
	upperHalf = 0xffff_8000_0000_0000
	topPage   = 0xffff_ffff_ffff_f000
)

func TestPTMapLookup(t *testing.T) {
	for _, tc := range []struct {
		va, pa uintptr
		flags  uint64
	}{
		{0, 0x1000, paging.RW},
		{0x1000, 0x2000, paging.RW | paging.US},
		{0x20_0000, 0x3000, paging.NX},
		{mmapBase, 0xdead_b000, paging.RW | paging.US | paging.NX},
		{userTop - pageSize, 0x5000, paging.US},
		{upperHalf, 0x6000, paging.G | paging.RW},
		{topPage, 0x7000, paging.G},
		{0x1000, 0xfff0_0000_1234_5678, paging.RW}, // pa bits outside the mask dropped
	} {
		t.Run(fmt.Sprintf("va=%#x/pa=%#x", tc.va, tc.pa), func(t *testing.T) {
			pt, m := newTestPT(t)
			if err := pt.map4K(tc.va, tc.pa, tc.flags); err != nil {
				t.Fatal(err)
			}
			want := uint64(tc.pa)&paging.AddrMask | tc.flags | paging.P
			if got := pt.lookup(tc.va); got != want {
				t.Fatalf("lookup = %#x, want %#x", got, want)
			}
			if got := pt.lookup(tc.va ^ pageSize); got != 0 {
				t.Fatalf("neighbour page lookup = %#x, want 0", got)
			}
			if len(m.arena) != 4 {
				t.Fatalf("%d tables after one map, want 4", len(m.arena))
			}
			if err := pt.map4K(tc.va^pageSize, 0x8000, paging.RW); err != nil || len(m.arena) != 4 {
				t.Fatalf("second page in the same table: err %v, %d tables", err, len(m.arena))
			}
		})
	}
}

func TestPTAllocFailure(t *testing.T) {
	for limit := 1; limit <= 4; limit++ {
		t.Run(fmt.Sprintf("tables=%d", limit), func(t *testing.T) {
			pt, m := newTestPT(t)
			m.limit = limit
			err := pt.map4K(mmapBase, 0x1000, paging.RW)
			if (err != nil) != (limit < 4) {
				t.Fatalf("map4K with %d tables available: %v", limit, err)
			}
			if err != nil && pt.lookup(mmapBase) != 0 {
				t.Fatal("failed map4K left a mapping")
			}
		})
	}
}

func TestPTUnmapRange(t *testing.T) {
	mapped := []uintptr{0, 0x1000, 0x1ff000, 0x200000, 0x3fff_f000, 0x4000_0000,
		0x7f_ffff_f000, 0x80_0000_0000, userTop - pageSize, upperHalf, upperHalf + 0x20_0000, topPage}
	for _, tc := range []struct{ start, end uintptr }{
		{0, 0x1000},
		{0, 0x2000},
		{0x800, 0x1001}, // partial pages at both ends count
		{0x1ff000, 0x201000},
		{0x1000, 0x80_0000_0000},
		{0, userTop},
		{mmapBase, userTop},
		{0x80_0000_0000, upperHalf + 1},
		{upperHalf, topPage},
		{upperHalf + 0x1000, ^uintptr(0)},
		{0, ^uintptr(0)},
		{0x5000, 0x5000},
	} {
		t.Run(fmt.Sprintf("%#x-%#x", tc.start, tc.end), func(t *testing.T) {
			pt, _ := newTestPT(t)
			want := map[uintptr]uintptr{}
			for i, va := range mapped {
				pa := uintptr(i+1) << 20
				if err := pt.map4K(va, pa, paging.RW); err != nil {
					t.Fatal(err)
				}
				if va < tc.end && (va >= tc.start || tc.start-va < pageSize) {
					want[va] = pa
				}
			}
			got := unmapCollect(t, pt, tc.start, tc.end)
			if !maps.Equal(got, want) {
				t.Fatalf("released %v, want %v", got, want)
			}
			for i, va := range mapped {
				_, gone := want[va]
				if e := pt.lookup(va); (e == 0) != gone || (!gone && e&paging.AddrMask != uint64(i+1)<<20) {
					t.Fatalf("after unmap lookup(%#x) = %#x, released %v", va, e, gone)
				}
			}
		})
	}
}

// TestPTUnmapSparse checks that missing tables are skipped whole: a 512 GiB
// (or whole address space) unmap visits exactly the tables that exist.
func TestPTUnmapSparse(t *testing.T) {
	for _, tc := range []struct {
		start, end uintptr
		pages      []uintptr
	}{
		{0, 512 << 30, []uintptr{0x1000, 1 << 30, 512<<30 - pageSize}},
		{mmapBase, mmapBase + 512<<30, []uintptr{mmapBase, mmapBase + 0x1000, mmapBase + 300<<30}},
		{0, ^uintptr(0), []uintptr{0x1000, mmapBase, upperHalf + 5<<30}},
	} {
		t.Run(fmt.Sprintf("%#x-%#x", tc.start, tc.end), func(t *testing.T) {
			pt, m := newTestPT(t)
			for _, va := range tc.pages {
				if err := pt.map4K(va, va&0xffff_f000+pageSize, paging.RW); err != nil {
					t.Fatal(err)
				}
			}
			m.visits = 0
			got := unmapCollect(t, pt, tc.start, tc.end)
			if !slices.Equal(slices.Sorted(maps.Keys(got)), tc.pages) {
				t.Fatalf("released %v, want %v", got, tc.pages)
			}
			if m.visits != len(m.arena) {
				t.Fatalf("unmap visited %d tables, %d exist", m.visits, len(m.arena))
			}
			for _, va := range tc.pages {
				if e := pt.lookup(va); e != 0 {
					t.Fatalf("entry for %#x still %#x", va, e)
				}
			}
		})
	}
}

func TestPTLargePages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		va    uintptr
		level int // 1: 2 MiB page in a PD, 2: 1 GiB page in a PDPT
	}{
		{"2M", 0x40_0000, 1},
		{"1G", 1 << 30, 2},
		{"2M-upper", upperHalf + 0x20_0000, 1},
	} {
		t.Run(fmt.Sprintf("%s/va=%#x", tc.name, tc.va), func(t *testing.T) {
			pt, _ := newTestPT(t)
			// Build the path with a 4K map elsewhere in the same large page's
			// parent table, then plant the PS entry by hand.
			span := uintptr(1) << (12 + 9*tc.level)
			other := tc.va + span
			if err := pt.map4K(other, 0x1000, paging.RW); err != nil {
				t.Fatal(err)
			}
			e, err := pt.Entry(uint64(tc.va), tc.level, 0)
			if err != nil || e == nil {
				t.Fatalf("no level-%d entry on the way to %#x: %v", tc.level, other, err)
			}
			large := uint64(0x8000_0000) | paging.P | paging.RW | paging.PS
			*e = large
			for _, va := range []uintptr{tc.va, tc.va + 0x1000, tc.va + span - pageSize} {
				if e := pt.lookup(va); e != 0 {
					t.Fatalf("lookup(%#x) in a large page = %#x, want 0", va, e)
				}
				if err := pt.map4K(va, 0x2000, paging.RW); err == nil {
					t.Fatalf("map4K(%#x) into a large page succeeded", va)
				}
			}
			got := unmapCollect(t, pt, tc.va, other+pageSize)
			if len(got) != 1 || got[other] != 0x1000 {
				t.Fatalf("released %v, want only %#x", got, other)
			}
			if *e != large {
				t.Fatal("unmapRange changed a large-page entry")
			}
		})
	}
}

// TestPTModel maps and unmaps random pages in a few windows (lower half,
// mmap area, upper half) and checks every lookup against a map.
func TestPTModel(t *testing.T) {
	windows := []uintptr{0, mmapBase - 64*pageSize, upperHalf + 1<<30 - 64*pageSize, topPage - 127*pageSize}
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			pt, _ := newTestPT(t)
			model := map[uintptr]uintptr{}
			randVA := func() uintptr { return windows[rng.IntN(len(windows))] + uintptr(rng.IntN(128))*pageSize }
			for step := 0; step < 2000; step++ {
				if rng.IntN(3) > 0 {
					va, pa := randVA(), uintptr(rng.IntN(1<<20))*pageSize
					if err := pt.map4K(va, pa, paging.RW); err != nil {
						t.Fatal(err)
					}
					model[va] = pa
				} else {
					start := randVA()
					end := start + uintptr(rng.IntN(40))*pageSize
					if end < start {
						end = ^uintptr(0)
					}
					want := map[uintptr]uintptr{}
					for va, pa := range model {
						if va >= start && va < end {
							want[va] = pa
							delete(model, va)
						}
					}
					if got := unmapCollect(t, pt, start, end); !maps.Equal(got, want) {
						t.Fatalf("step %d: unmap %#x-%#x released %v, want %v", step, start, end, got, want)
					}
				}
			}
			for _, w := range windows {
				for i := uintptr(0); i < 128; i++ {
					va := w + i*pageSize
					pa, ok := model[va]
					if e := pt.lookup(va); (e != 0) != ok || (ok && uintptr(e&paging.AddrMask) != pa) {
						t.Fatalf("lookup(%#x) = %#x, model %#x %v", va, e, pa, ok)
					}
				}
			}
		})
	}
}

func discardPage(va, pa uintptr) {}

// TestPTNoAllocs: the kernel's page-table paths run in kernel context and on
// the boot path, where nothing may allocate. (Table pages come from the
// arena, so the map keeps to tables that exist.)
func TestPTNoAllocs(t *testing.T) {
	pt, _ := newTestPT(t)
	if err := pt.map4K(mmapBase, 0x1000, paging.RW); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"map4K":      func() { _ = pt.map4K(mmapBase+pageSize, 0x2000, paging.RW|paging.US) },
		"lookup":     func() { pt.lookup(mmapBase) },
		"unmapRange": func() { pt.unmapRange(mmapBase+pageSize, userTop, discardPage) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
}
