package hv

import (
	"testing"
	"time"
)

func queuedVCPUs(n int) []*VCPU {
	d := &Domain{state: domRunning}
	var vs []*VCPU
	for i := 0; i < n; i++ {
		vs = append(vs, &VCPU{dom: d, id: i, state: vcpuPaused, lastCPU: -1})
	}
	return vs
}

func TestPlacementBalancesAndHonoursAffinity(t *testing.T) {
	s := newScheduler(time.Millisecond, 2)
	vs := queuedVCPUs(4)
	vs[3].affinity = 1 << 1 // CPU 1 only
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs[:3] {
		s.enqueueLocked(v)
	}
	if a, b := len(s.cpus[0].runq), len(s.cpus[1].runq); a+b != 3 || a-b > 1 || b-a > 1 {
		t.Fatalf("queues %d and %d for 3 vCPUs", a, b)
	}
	s.enqueueLocked(vs[3])
	if vs[3].cpu != 1 {
		t.Fatalf("vCPU with affinity {1} placed on CPU %d", vs[3].cpu)
	}
	// CPU 0 drains its queue, then steals, but never vs[3].
	var got []*VCPU
	for v := s.pickLocked(s.cpus[0], 0); v != nil; v = s.pickLocked(s.cpus[0], 0) {
		got = append(got, v)
	}
	for _, v := range got {
		if v == vs[3] {
			t.Fatal("CPU 0 stole a vCPU pinned to CPU 1")
		}
	}
	if len(got) != 3 || s.pickLocked(s.cpus[1], 0) != vs[3] {
		t.Fatalf("CPU 0 took %d vCPUs; CPU 1 should be left with the pinned one", len(got))
	}
}

func TestPlacementPrefersLastCPUOnTie(t *testing.T) {
	s := newScheduler(time.Millisecond, 2)
	v := queuedVCPUs(1)[0]
	v.lastCPU = 1
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueueLocked(v)
	if v.cpu != 1 {
		t.Fatalf("placed on %d, want its last CPU 1", v.cpu)
	}
}
