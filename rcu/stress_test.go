package rcu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// object is what the stress test protects. Its reclaim poisons it; a reader
// that sees poison inside a read-side section has caught a use after free.
type object struct {
	gen  uint64
	dead atomic.Bool
}

// TestStressNoUseAfterReclaim runs readers that keep loading and re-checking
// a protected object while a writer replaces it and reclaims the old one,
// alternately by Synchronize and by Call. Under -short it runs 10^4 grace
// periods; otherwise 10^5.
func TestStressNoUseAfterReclaim(t *testing.T) {
	periods := uint64(100_000)
	if testing.Short() {
		periods = 10_000
	}
	// Two readers plus the writer and the callback goroutine already
	// oversubscribe two CPUs; readers also yield between sections, as a
	// vCPU loop does at every exit, or a reader preempted mid-section would
	// stretch grace periods to the scheduler's 10 ms time slice.
	const readers = 2
	s := New(readers + 1)
	var p Pointer[object]
	p.Store(&object{gen: 1})

	var stop atomic.Bool
	var wg sync.WaitGroup
	var sections atomic.Uint64
	for i := range readers {
		wg.Go(func() { stressReader(t, s.Reader(i), &p, &stop, &sections) })
	}
	start := time.Now()
	stressWriter(s, &p, periods)
	stop.Store(true)
	wg.Wait()
	s.Barrier()
	t.Logf("%d grace periods, %d read-side sections in %v", s.GracePeriods(), sections.Load(), time.Since(start))
	if s.GracePeriods() < periods {
		t.Fatalf("only %d grace periods", s.GracePeriods())
	}
}

func stressReader(t *testing.T, r *Reader, p *Pointer[object], stop *atomic.Bool, sections *atomic.Uint64) {
	var last uint64
	for n := 0; !stop.Load(); n++ {
		r.Lock()
		o := p.Load(r)
		for range n % 4 { // vary section length so grace periods hit mid-section
			if o.dead.Load() {
				t.Errorf("reader %d: object gen %d reclaimed while in use", r.Slot(), o.gen)
			}
		}
		if o.dead.Load() {
			t.Errorf("reader %d: object gen %d reclaimed while in use", r.Slot(), o.gen)
		}
		if o.gen < last {
			t.Errorf("reader %d: generation went back from %d to %d", r.Slot(), last, o.gen)
		}
		last = o.gen
		r.Unlock()
		sections.Add(1)
		if n%8 == 0 {
			runtime.Gosched()
		}
	}
}

func stressWriter(s *State, p *Pointer[object], periods uint64) {
	for gen := uint64(2); s.GracePeriods() < periods; gen++ {
		old := p.Swap(&object{gen: gen})
		if gen%2 == 0 {
			s.Synchronize()
			old.dead.Store(true)
		} else {
			s.Call(func() { old.dead.Store(true) })
		}
	}
}
