package hv

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"grove/errno"
)

// idStep is one operation on an idSpace: free id, or alloc expecting id (0 =
// expecting ENOSPC).
type idStep struct {
	free bool
	id   DomID
}

func allocs(ids ...DomID) []idStep {
	var out []idStep
	for _, id := range ids {
		out = append(out, idStep{id: id})
	}
	return out
}

func allocRange(from, to DomID) []idStep {
	var out []idStep
	for id := from; id <= to; id++ {
		out = append(out, idStep{id: id})
	}
	return out
}

func frees(ids ...DomID) []idStep {
	var out []idStep
	for _, id := range ids {
		out = append(out, idStep{free: true, id: id})
	}
	return out
}

func steps(parts ...[]idStep) []idStep {
	var out []idStep
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestIDSpace(t *testing.T) {
	for _, tc := range []struct {
		name  string
		max   DomID
		steps []idStep
	}{
		{"one-id", 1, steps(allocs(1, 0), frees(1), allocs(1, 0))},
		{"in-order-then-full", 3, allocs(1, 2, 3, 0, 0)},
		{"next-fit-skips-freed", 4, steps(allocs(1, 2), frees(1), allocs(3, 4, 1, 0))},
		{"wraps-past-taken", 3, steps(allocs(1, 2, 3), frees(2), allocs(2), frees(3, 1), allocs(3, 1, 0))},
		{"word-boundary", 130, steps(allocRange(1, 130), allocs(0), frees(64, 128, 63), allocs(63, 64, 128, 0))},
		{"full-space", MaxDomID, steps(allocRange(1, MaxDomID), allocs(0), frees(7), allocs(7, 0))},
	} {
		t.Run(fmt.Sprintf("%s/max=%d", tc.name, tc.max), func(t *testing.T) {
			s := newIDSpace(tc.max)
			for i, st := range tc.steps {
				if st.free {
					s.free(st.id)
					continue
				}
				id, err := s.alloc()
				if st.id == 0 && !errors.Is(err, errno.ENOSPC) {
					t.Fatalf("step %d: alloc = %d, %v; want ENOSPC", i, id, err)
				}
				if st.id != 0 && (err != nil || id != st.id) {
					t.Fatalf("step %d: alloc = %d, %v; want %d", i, id, err, st.id)
				}
			}
		})
	}
}

// TestIDSpaceModel checks alloc and free against a map under random use:
// ids are unique, in range, and ENOSPC comes exactly when all are taken.
func TestIDSpaceModel(t *testing.T) {
	for _, max := range []DomID{1, 2, 5, 64, 65, 200} {
		t.Run(fmt.Sprintf("max=%d", max), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(max)))
			s, held := newIDSpace(max), map[DomID]bool{}
			for i := 0; i < 5000; i++ {
				if len(held) > 0 && rng.Intn(3) == 0 {
					for id := range held { // any one
						s.free(id)
						delete(held, id)
						break
					}
					continue
				}
				id, err := s.alloc()
				if len(held) == int(max) {
					if !errors.Is(err, errno.ENOSPC) {
						t.Fatalf("full space: alloc = %d, %v", id, err)
					}
					continue
				}
				if err != nil || id < 1 || id > max || held[id] {
					t.Fatalf("alloc = %d, %v with %d of %d held", id, err, len(held), max)
				}
				held[id] = true
			}
		})
	}
}

func TestIDSpaceFreeUntakenPanics(t *testing.T) {
	for _, id := range []DomID{0, 1, 4} {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("free(%d) of an untaken id did not panic", id)
				}
			}()
			newIDSpace(3).free(id)
		})
	}
}
