package rcu

import (
	"runtime"
	"time"
)

// spinRounds is how many times Synchronize yields before it starts to sleep:
// read-side sections are short, so most waits end within a few yields.
const spinRounds = 100

// maxBackoff bounds the sleep between polls of a slow reader.
const maxBackoff = time.Millisecond

// Synchronize returns once every read-side section that began before the call
// has ended. It does not wait for sections that began after its grace period
// started. It must not be called inside a read-side section.
func (s *State) Synchronize() {
	start := s.gp.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	// A grace period numbered above start began after this call did; if one
	// has completed, it already covers every reader this call must wait for.
	if s.done.Load() > start {
		return
	}
	target := s.gp.Add(1)
	if s.expedited {
		// Every reader's slot store before this point is visible to
		// the scan below, and every protected load after it sees what
		// the caller published (doc.go, "Ordering").
		membarrier()
	}
	s.waitReadersLocked(target)
	s.done.Store(target)
}

// GracePeriods returns how many grace periods have completed.
func (s *State) GracePeriods() uint64 { return s.done.Load() - 1 }

// waitReadersLocked waits for every slot inside a section begun before
// period target. Caller holds mu.
func (s *State) waitReadersLocked(target uint64) {
	begin := s.now()
	for i := range s.slots {
		r := &s.slots[i]
		if c := r.loadCtr(); c == 0 || c >= target {
			continue
		}
		s.waitSlotLocked(r, target, begin)
	}
}

// waitSlotLocked polls one slot until it leaves its old section, reporting it
// each time it has held the grace period up for another stall timeout.
// Caller holds mu.
func (s *State) waitSlotLocked(r *Reader, target uint64, begin time.Time) {
	backoff := time.Microsecond
	nextReport := s.stallTimeout
	for round := 0; ; round++ {
		c := r.loadCtr()
		if c == 0 || c >= target {
			r.stalled.Store(0)
			return
		}
		if round < spinRounds {
			runtime.Gosched()
			continue
		}
		if held := s.now().Sub(begin); held >= nextReport {
			r.stalled.Store(c)
			s.stall(int(r.idx), held)
			nextReport += s.stallTimeout
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, maxBackoff)
	}
}

// Stalled returns the slots that were reported as stalled and are still in
// the section they were reported in.
func (s *State) Stalled() []int {
	var out []int
	for i := range s.slots {
		r := &s.slots[i]
		if c := r.stalled.Load(); c != 0 && r.loadCtr() == c {
			out = append(out, i)
		}
	}
	return out
}
