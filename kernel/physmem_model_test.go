package kernel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// physModel is the allocator's specification as a map: a page is free,
// allocated (handed out by alloc/allocRun), or otherwise in use.
type physModel struct {
	npages           uint64
	state            map[uint64]byte // absent = in use (never released or reserved)
	free, total, min uint64
}

const (
	mFree  = 'f'
	mAlloc = 'a'
)

func (m *physModel) release(base, length uint64) {
	first, end := (base+pg-1)/pg, (base+length)/pg
	for p := first; p < end && p < m.npages; p++ {
		if m.state[p] != mFree {
			m.state[p] = mFree
			m.free++
			m.total++
		}
	}
}

func (m *physModel) reserve(base, length uint64) {
	first, end := base/pg, (base+length+pg-1)/pg
	for p := first; p < end && p < m.npages; p++ {
		if m.state[p] == mFree {
			delete(m.state, p)
			m.free--
			m.total--
			m.min = min(m.min, m.free)
		}
	}
}

// take marks [first, first+n) allocated; every page must be free.
func (m *physModel) take(t *testing.T, first, n uint64) {
	t.Helper()
	for p := first; p < first+n; p++ {
		if m.state[p] != mFree {
			t.Fatalf("allocator handed out page %d, which the model has in state %q", p, m.state[p])
		}
		m.state[p] = mAlloc
	}
	m.free -= n
	m.min = min(m.min, m.free)
}

// hasRun reports whether n free pages aligned to align exist.
func (m *physModel) hasRun(n, align uint64) bool {
	for s := uint64(0); s+n <= m.npages; s += align {
		ok := true
		for p := s; p < s+n && ok; p++ {
			ok = m.state[p] == mFree
		}
		if ok {
			return true
		}
	}
	return false
}

func TestPhysModel(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
			npages := 100 + rng.Uint64N(200)
			a := newTestAlloc(t, npages)
			m := &physModel{npages: npages, state: map[uint64]byte{}, min: ^uint64(0)}
			for step := 0; step < 3000; step++ {
				physStep(t, rng, a, m)
				if a.free != m.free || a.total != m.total || a.min != m.min {
					t.Fatalf("step %d: free/total/min = %d/%d/%d, model %d/%d/%d",
						step, a.free, a.total, a.min, m.free, m.total, m.min)
				}
				for p := uint64(0); p < npages; p++ {
					if a.test(p) != (m.state[p] != mFree) {
						t.Fatalf("step %d: page %d in use = %v, model state %q", step, p, a.test(p), m.state[p])
					}
				}
				checkCounters(t, a)
			}
		})
	}
}

// physStep applies one random operation to both allocator and model.
func physStep(t *testing.T, rng *rand.Rand, a *physAlloc, m *physModel) {
	t.Helper()
	span := (m.npages + 8) * pg
	switch op := rng.IntN(10); {
	case op < 1:
		base, length := rng.Uint64N(span), rng.Uint64N(20*pg)
		a.release(base, length)
		m.release(base, length)
	case op < 2:
		base, length := rng.Uint64N(span), rng.Uint64N(4*pg)
		a.reserve(base, length)
		m.reserve(base, length)
	case op < 5:
		pa, err := a.alloc()
		if err != nil {
			if !errors.Is(err, errNoMemory) || m.free != 0 {
				t.Fatalf("alloc: %v with %d free in the model", err, m.free)
			}
			return
		}
		m.take(t, uint64(pa)/pg, 1)
	case op < 6:
		n, align := 1+rng.Uint64N(8), uint64(1)<<rng.IntN(4)
		pa, err := a.allocRun(n, align)
		if err != nil {
			if !errors.Is(err, errNoMemory) || m.hasRun(n, align) {
				t.Fatalf("allocRun(%d, %d): %v, model has such a run: %v", n, align, err, m.hasRun(n, align))
			}
			return
		}
		if uint64(pa)%(align*pg) != 0 {
			t.Fatalf("allocRun(%d, %d) = %#x, misaligned", n, align, pa)
		}
		m.take(t, uint64(pa)/pg, n)
	default:
		physFree(t, rng, a, m)
	}
}

// physFree frees an allocated page, or tries a page that must be refused.
func physFree(t *testing.T, rng *rand.Rand, a *physAlloc, m *physModel) {
	t.Helper()
	p := rng.Uint64N(m.npages + 8)
	pa := uintptr(p * pg)
	if rng.IntN(8) == 0 {
		pa += uintptr(1 + rng.IntN(pg-1))
	}
	want := pa%pg == 0 && m.state[p] == mAlloc
	if want || m.state[p] == mFree || p >= m.npages || pa%pg != 0 {
		err := a.freePage(pa)
		if (err == nil) != want {
			t.Fatalf("freePage(%#x) = %v, model state %q", pa, err, m.state[p])
		}
		if want {
			m.state[p] = mFree
			m.free++
		}
	}
}
