package kernel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// vmModel is an address window's mappings, one prot per page (-1: unmapped).
type vmModel struct {
	base  uintptr
	prots []int
}

func newVMModel(base uintptr, npages int) *vmModel {
	m := &vmModel{base: base, prots: make([]int, npages)}
	for i := range m.prots {
		m.prots[i] = -1
	}
	return m
}

func (m *vmModel) set(start, end uintptr, prot int) {
	for a := start; a < end; a += pageSize {
		m.prots[(a-m.base)/pageSize] = prot
	}
}

// checkVMAs verifies the list is sorted, non-overlapping, non-empty and
// merged, and that it maps exactly what the model maps.
func checkVMAs(t *testing.T, as *addressSpace, m *vmModel) {
	t.Helper()
	vs := as.vmas[:as.n]
	for i, v := range vs {
		if v.start >= v.end || v.start%pageSize != 0 || v.end%pageSize != 0 {
			t.Fatalf("vma %d = %+v is empty or unaligned: %v", i, v, vs)
		}
		if i > 0 && vs[i-1].end > v.start {
			t.Fatalf("vmas %d and %d overlap or are unsorted: %v", i-1, i, vs)
		}
		if i > 0 && vs[i-1].end == v.start && vs[i-1].prot == v.prot {
			t.Fatalf("vmas %d and %d are adjacent with equal prot: %v", i-1, i, vs)
		}
	}
	if m == nil {
		return
	}
	got := newVMModel(m.base, len(m.prots))
	for _, v := range vs {
		if v.start < m.base || v.end > m.base+uintptr(len(m.prots))*pageSize {
			t.Fatalf("vma %+v lies outside the window", v)
		}
		got.set(v.start, v.end, int(v.prot))
	}
	if !slices.Equal(got.prots, m.prots) {
		t.Fatalf("list maps %v\nmodel maps %v\nlist: %v", got.prots, m.prots, vs)
	}
}

func TestVMModel(t *testing.T) {
	const npages = 48
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			as := &addressSpace{identEnd: 4 << 30, mmapNext: mmapBase}
			m := newVMModel(mmapBase, npages)
			randRange := func() (uintptr, uintptr) {
				s := rng.IntN(npages)
				e := s + 1 + rng.IntN(min(npages-s, 12))
				return mmapBase + uintptr(s)*pageSize, mmapBase + uintptr(e)*pageSize
			}
			for step := 0; step < 5000; step++ {
				switch op := rng.IntN(4); op {
				case 0, 1:
					s, e := randRange()
					prot := rng.IntN(8)
					if !as.setRange(s, e, uint32(prot)) {
						t.Fatalf("step %d: setRange(%#x, %#x, %d) failed", step, s, e, prot)
					}
					m.set(s, e, prot)
				case 2:
					s, e := randRange()
					if !as.carve(s, e) {
						t.Fatalf("step %d: carve(%#x, %#x) failed", step, s, e)
					}
					m.set(s, e, -1)
				case 3:
					s, e := randRange()
					want := !slices.ContainsFunc(m.prots[(s-mmapBase)/pageSize:(e-mmapBase)/pageSize],
						func(p int) bool { return p >= 0 })
					if as.free(s, e) != want {
						t.Fatalf("step %d: free(%#x, %#x) = %v, model %v", step, s, e, !want, want)
					}
				}
				checkVMAs(t, as, m)
				checkFind(t, as, m, mmapBase-pageSize+uintptr(rng.IntN((npages+2)*pageSize)))
			}
		})
	}
}

func checkFind(t *testing.T, as *addressSpace, m *vmModel, addr uintptr) {
	t.Helper()
	i := as.find(addr)
	want := -1
	if addr >= m.base && addr < m.base+uintptr(len(m.prots))*pageSize {
		want = m.prots[(addr-m.base)/pageSize]
	}
	switch {
	case i < 0 && want >= 0:
		t.Fatalf("find(%#x) = -1, model maps it with prot %d", addr, want)
	case i >= 0 && (want < 0 || as.vmas[i].start > addr || addr >= as.vmas[i].end || int(as.vmas[i].prot) != want):
		t.Fatalf("find(%#x) = %d (%+v), model prot %d", addr, i, as.vmas[i], want)
	}
}

// TestVMExhaustion fills all maxVMAs slots with 3-page mappings of
// alternating prot, then tries operations that need more slots (they must
// fail and change nothing) and ones that do not (they must succeed).
func TestVMExhaustion(t *testing.T) {
	const w = 3 * pageSize
	at := func(i int) uintptr { return mmapBase + uintptr(i)*w }
	protOf := func(i int) int { return 1 + i%2 }
	const (
		either = iota
		mustFail
		mustWork
	)
	for _, tc := range []struct {
		name       string
		carve      bool
		start, end uintptr
		prot       int
		want       int
	}{
		{"new mapping after the last", false, at(maxVMAs) + w, at(maxVMAs) + 2*w, 4, mustFail},
		{"split a mapping", false, at(7) + pageSize, at(7) + 2*pageSize, 4, mustFail},
		{"trim two mappings", false, at(7) + 2*pageSize, at(8) + pageSize, 4, mustFail},
		{"carve a middle page", true, at(7) + pageSize, at(7) + 2*pageSize, 0, mustFail},
		{"replace a whole mapping", false, at(7), at(8), 4, mustWork},
		{"replace two, trim one", false, at(7), at(9) + pageSize, 4, mustWork},
		{"merge with both neighbours", false, at(7), at(8), protOf(6), mustWork},
		{"carve a whole mapping", true, at(7), at(8), 0, mustWork},
		{"carve a tail", true, at(7) + pageSize, at(8), 0, mustWork},
		{"carve two halves", true, at(7) + pageSize, at(8) + pageSize, 0, mustWork},
		{"same prot inside a mapping", false, at(7) + pageSize, at(7) + 2*pageSize, protOf(7), either},
		{"extend the last mapping", false, at(maxVMAs), at(maxVMAs) + w, protOf(maxVMAs - 1), either},
	} {
		t.Run(fmt.Sprintf("%s/%#x-%#x", tc.name, tc.start, tc.end), func(t *testing.T) {
			as := &addressSpace{identEnd: 4 << 30, mmapNext: mmapBase}
			m := newVMModel(mmapBase, (maxVMAs+3)*3)
			for i := 0; i < maxVMAs; i++ {
				if !as.setRange(at(i), at(i+1), uint32(protOf(i))) {
					t.Fatalf("filling slot %d failed", i)
				}
				m.set(at(i), at(i+1), protOf(i))
			}
			checkVMAs(t, as, m)
			before := as.vmas
			var ok bool
			if tc.carve {
				ok = as.carve(tc.start, tc.end)
			} else {
				ok = as.setRange(tc.start, tc.end, uint32(tc.prot))
			}
			if (tc.want == mustFail && ok) || (tc.want == mustWork && !ok) {
				t.Fatalf("ok = %v, want %v", ok, tc.want == mustWork)
			}
			if !ok {
				if as.n != maxVMAs || as.vmas != before {
					t.Fatalf("failed operation changed the list (n = %d)", as.n)
				}
				return
			}
			if tc.carve {
				m.set(tc.start, tc.end, -1)
			} else {
				m.set(tc.start, tc.end, tc.prot)
			}
			checkVMAs(t, as, m)
		})
	}
}

func TestVMPlace(t *testing.T) {
	const (
		identEnd = 4 << 30
		taken    = 0x2000_0000_0000 // one page mapped here
	)
	for _, tc := range []struct {
		hint, n  uintptr
		fixed    bool
		want     uintptr
		ok       bool
		wantNext uintptr
	}{
		{taken + pageSize, pageSize, true, taken + pageSize, true, mmapBase},
		{taken, pageSize, true, taken, true, mmapBase}, // MAP_FIXED replaces
		{identEnd, pageSize, true, identEnd, true, mmapBase},
		{taken + 1, pageSize, true, taken + 1, false, mmapBase},
		{identEnd - pageSize, pageSize, true, identEnd - pageSize, false, mmapBase},
		{userTop - pageSize, 2 * pageSize, true, userTop - pageSize, false, mmapBase},
		{taken, ^uintptr(0) - pageSize + 1, true, taken, false, mmapBase},
		{taken + pageSize, 0, true, taken + pageSize, false, mmapBase},
		{taken + pageSize, 4 * pageSize, false, taken + pageSize, true, mmapBase},
		{userTop - pageSize, pageSize, false, userTop - pageSize, true, mmapBase},
		{0, pageSize, false, mmapBase + 4*pageSize, true, mmapBase + 5*pageSize},
		{taken - pageSize, 2 * pageSize, false, mmapBase + 4*pageSize, true, mmapBase + 6*pageSize},
		{taken + 8, pageSize, false, mmapBase + 4*pageSize, true, mmapBase + 5*pageSize},
		{identEnd - pageSize, pageSize, false, mmapBase + 4*pageSize, true, mmapBase + 5*pageSize},
		{0, 4 * pageSize, false, mmapBase + 4*pageSize, true, mmapBase + 8*pageSize},
		{0, userTop, false, 0, false, mmapBase},
		{0, userTop - mmapBase + pageSize, false, 0, false, mmapBase},
		{0, ^uintptr(0) - mmapBase + 1 + pageSize, false, 0, false, mmapBase}, // bump would wrap
		{0, 0, false, 0, false, mmapBase},
	} {
		t.Run(fmt.Sprintf("hint=%#x/n=%#x/fixed=%v", tc.hint, tc.n, tc.fixed), func(t *testing.T) {
			as := &addressSpace{identEnd: identEnd, mmapNext: mmapBase}
			if !as.setRange(mmapBase, mmapBase+4*pageSize, protRead) || !as.setRange(taken, taken+pageSize, protRead) {
				t.Fatal("setup failed")
			}
			got, ok := as.place(tc.hint, tc.n, tc.fixed)
			if ok != tc.ok || (ok || tc.fixed) && got != tc.want {
				t.Fatalf("place = %#x, %v; want %#x, %v", got, ok, tc.want, tc.ok)
			}
			if as.mmapNext != tc.wantNext {
				t.Fatalf("mmapNext = %#x, want %#x", as.mmapNext, tc.wantNext)
			}
			if ok && !tc.fixed && !as.free(got, got+tc.n) {
				t.Fatalf("non-fixed place returned %#x, which is not free", got)
			}
		})
	}
}

// TestVMModelFull runs random small operations over a window wide enough to
// need more than maxVMAs mappings: a refused operation must change nothing,
// an accepted one must match the model.
func TestVMModelFull(t *testing.T) {
	const npages = 3 * maxVMAs
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			as := &addressSpace{identEnd: 4 << 30, mmapNext: mmapBase}
			m := newVMModel(mmapBase, npages)
			refused := 0
			for step := 0; step < 5000; step++ {
				s := rng.IntN(npages - 3)
				e := s + 1 + rng.IntN(3)
				start, end := mmapBase+uintptr(s)*pageSize, mmapBase+uintptr(e)*pageSize
				prot, carve := rng.IntN(8), rng.IntN(8) == 0
				before, n := as.vmas, as.n
				var ok bool
				if carve {
					ok, prot = as.carve(start, end), -1
				} else {
					ok = as.setRange(start, end, uint32(prot))
				}
				if !ok {
					refused++
					if as.n != n || as.vmas != before {
						t.Fatalf("step %d: refused op on %#x-%#x changed the list", step, start, end)
					}
					continue
				}
				m.set(start, end, prot)
				checkVMAs(t, as, m)
			}
			if refused == 0 {
				t.Fatal("no operation hit the maxVMAs limit; the test is not testing it")
			}
			t.Logf("%d operations refused at %d mappings", refused, as.n)
		})
	}
}
