package rcu

import (
	"flag"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// object is what the stress test protects. Reclaiming it overwrites val
// with poison; a reader that sees poison inside a read-side section has
// caught a use after free. val is a plain field, as protected data is: the
// race detector checks the fenced flavour's happens-before edges on it.
type object struct {
	gen uint64
	val uint64 // valueOf(gen) while published or in use, poison once reclaimed
}

const poison = 0xdeaddeaddeaddead

var stressScale = flag.Uint("rcu.stress", 1, "multiply the stress tests' grace periods by this")

func valueOf(gen uint64) uint64 { return gen * 0x9e3779b97f4a7c15 }

func (o *object) reclaim() { o.val = poison }

// TestStressNoUseAfterReclaim runs readers that keep loading and re-checking
// a protected object while a writer replaces it and reclaims the old one,
// alternately by Synchronize and by Call, in every flavour this build has
// (under -race, the fenced one). Under -short it runs 10^4 grace periods
// per flavour; otherwise 10^5 (times -rcu.stress).
func TestStressNoUseAfterReclaim(t *testing.T) {
	periods := 100_000 * uint64(*stressScale)
	if testing.Short() {
		periods /= 10
	}
	for _, fl := range flavours() {
		t.Run(fl.name, func(t *testing.T) { stress(t, newState(stressReaders+1, fl.expedited), periods) })
	}
}

// TestStressTightReader is the stress test at its most hostile to the
// expedited flavour: one reader that never yields, on its own CPU, against
// a writer that reclaims as soon as Synchronize returns. The entry store
// needs the slot's cache line back from the writer's scan, so it waits in
// the store buffer while the section's loads run ahead, the reordering
// membarrier exists for. With the membarrier call taken out of
// Synchronize this caught readers using reclaimed objects in 1 of 6 runs of
// the default 2·10^5 grace periods, and in 5 of 6 runs of 2·10^6
// (-rcu.stress=10; 3 to 92 objects each), on a 2-CPU AMD EPYC host.
func TestStressTightReader(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs 2 CPUs: a reader that never yields would starve the writer")
	}
	periods := 200_000 * uint64(*stressScale)
	if testing.Short() {
		periods /= 10
	}
	for _, fl := range flavours() {
		t.Run(fl.name, func(t *testing.T) { stressTight(t, newState(1, fl.expedited), periods) })
	}
}

func stressTight(t *testing.T, s *State, periods uint64) {
	var p Pointer[object]
	p.Store(&object{gen: 1, val: valueOf(1)})
	var stop atomic.Bool
	var bad, sections atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := s.Reader(0)
		for n := uint64(0); !stop.Load(); n++ {
			r.Lock()
			if o := p.Load(r); o.val != valueOf(o.gen) {
				bad.Add(1)
			}
			r.Unlock()
			sections.Store(n)
		}
	}()
	for gen := uint64(2); s.GracePeriods() < periods; gen++ {
		old := p.Swap(&object{gen: gen, val: valueOf(gen)})
		s.Synchronize()
		old.reclaim()
	}
	stop.Store(true)
	<-done
	t.Logf("%d grace periods, %d read-side sections", s.GracePeriods(), sections.Load())
	if n := bad.Load(); n != 0 {
		t.Fatalf("the reader saw %d reclaimed objects inside its sections", n)
	}
}

// Two readers plus the writer and the callback goroutine already
// oversubscribe two CPUs; readers also yield between sections, as a vCPU
// loop does at every exit, or a reader preempted mid-section would stretch
// grace periods to the scheduler's 10 ms time slice.
const stressReaders = 2

func stress(t *testing.T, s *State, periods uint64) {
	var p Pointer[object]
	p.Store(&object{gen: 1, val: valueOf(1)})
	var stop atomic.Bool
	var wg sync.WaitGroup
	var sections atomic.Uint64
	for i := range stressReaders {
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
		for range 1 + n%4 { // vary section length so grace periods hit mid-section
			if v := o.val; v != valueOf(o.gen) {
				t.Errorf("reader %d: object gen %d holds %#x inside a section (reclaimed while in use)", r.Slot(), o.gen, v)
			}
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
		old := p.Swap(&object{gen: gen, val: valueOf(gen)})
		if gen%2 == 0 {
			s.Synchronize()
			old.reclaim()
		} else {
			s.Call(old.reclaim)
		}
	}
}
