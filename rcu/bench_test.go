package rcu

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkReadSide compares one read-side enter/exit with the alternatives
// a reader could use, in one run so the figures print together. Each
// parallel goroutine uses its own slot, as each vCPU will.
func BenchmarkReadSide(b *testing.B) {
	b.Run("rcu", func(b *testing.B) {
		s := New(256)
		var next atomic.Int32
		b.RunParallel(func(pb *testing.PB) {
			r := s.Reader(int(next.Add(1)))
			for pb.Next() {
				r.Lock()
				r.Unlock()
			}
		})
	})
	b.Run("rcu+load", func(b *testing.B) {
		s := New(256)
		var p Pointer[int]
		p.Store(new(int))
		var next atomic.Int32
		b.RunParallel(func(pb *testing.PB) {
			r := s.Reader(int(next.Add(1)))
			for pb.Next() {
				r.Lock()
				_ = *p.Load(r)
				r.Unlock()
			}
		})
	})
	b.Run("rwmutex", func(b *testing.B) {
		var mu sync.RWMutex
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.RLock()
				mu.RUnlock()
			}
		})
	})
	b.Run("atomic-load", func(b *testing.B) {
		var p atomic.Pointer[int]
		p.Store(new(int))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = *p.Load()
			}
		})
	})
}

// BenchmarkSynchronize measures grace-period latency while n goroutines, each
// on its own slot, keep entering and leaving short sections. The readers
// yield every few sections, as a vCPU loop does at its exits: with 8 pure
// spinners on 2 CPUs a reader preempted mid-section is not run again for the
// scheduler's 10 ms slice, and the figure would measure that instead (about
// 90 ms per grace period on a 2-CPU host).
func BenchmarkSynchronize(b *testing.B) {
	for _, n := range []int{0, 1, 8} {
		b.Run(fmt.Sprintf("readers=%d", n), func(b *testing.B) {
			s := New(n + 1)
			var stop atomic.Bool
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { spinReader(s.Reader(i), &stop) })
			}
			for b.Loop() {
				s.Synchronize()
			}
			stop.Store(true)
			wg.Wait()
		})
	}
}

func spinReader(r *Reader, stop *atomic.Bool) {
	for n := 0; !stop.Load(); n++ {
		r.Lock()
		r.Unlock()
		if n%8 == 0 {
			runtime.Gosched()
		}
	}
}
