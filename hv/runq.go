package hv

// Edits of the scheduler's run queue made outside the scheduler loop.

// removeLocked takes v off the run queue. Caller holds s.mu.
func (s *Scheduler) removeLocked(v *VCPU) {
	for i, q := range s.runq {
		if q == v {
			s.runq = append(s.runq[:i], s.runq[i+1:]...)
			return
		}
	}
}
