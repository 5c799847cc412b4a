package hv

import (
	"grove/errno"
	"grove/hv/abi"
)

// The pause state machine, with Xen's rules: a controller pause count (a new
// domain starts at 1, at most maxPauseCount), the domain runs only at zero;
// a crashed or shut-down domain keeps counting, a dying one refuses.

// Pause adds a controller pause and returns once no vCPU of d runs.
func (d *Domain) Pause() error {
	if err := d.pauseCount1(); err != nil {
		return err
	}
	d.waitDescheduled()
	return nil
}

// pauseCount1 adds a controller pause without waiting (domgrp waits for a
// whole group at once). A crashed or shut-down domain keeps counting, so a
// group holding one can still be paused and unpaused; a dying one cannot.
func (d *Domain) pauseCount1() error {
	logged := false
	defer func() {
		if logged { // after the scheduler's lock: console output is slow under TCG
			d.logf("paused") // the console shows the order of group and ordered pauses
		}
	}()
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case d.state == domDying:
		return errno.EINVAL
	case d.pauseCount == maxPauseCount:
		return errno.EOVERFLOW
	}
	d.pauseCount++
	if d.state != domRunning && d.state != domPaused {
		return nil
	}
	if d.pauseCount == 1 {
		d.hv.queueEventLocked(event{abi.EventPaused, d.ID, ""})
		logged = true
	}
	d.state = domPaused
	for _, v := range d.vcpus {
		switch v.state {
		case vcpuRunnable:
			s.removeLocked(v)
			v.state = vcpuPaused
		case vcpuBlocked:
			v.state = vcpuPaused
		case vcpuRunning:
			s.kickLocked(v) // another CPU: it exits now, not at its slice end
		}
	}
	return nil
}

// waitDescheduled returns once no vCPU of d is running on any CPU; a running
// one was kicked (pauseCount1) and stops at its next exit.
func (d *Domain) waitDescheduled() {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range d.vcpus {
		for v.state == vcpuRunning {
			s.offCPU.Wait()
		}
	}
}

// Unpause drops a controller pause; at zero the domain runs again.
func (d *Domain) Unpause() error {
	logged := false
	defer func() {
		if logged { // after the scheduler's lock, as in pauseCount1
			d.logf("unpaused")
		}
	}()
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.pauseCount == 0 || d.state == domDying {
		return errno.EINVAL
	}
	d.pauseCount--
	if d.pauseCount > 0 || d.state != domPaused {
		return nil
	}
	d.state = domRunning
	if d.started { // the first unpause just starts a new domain
		d.hv.queueEventLocked(event{abi.EventUnpaused, d.ID, ""})
		logged = true
	}
	d.started = true
	for _, v := range d.vcpus {
		if v.state == vcpuPaused {
			s.enqueueLocked(v)
		}
	}
	return nil
}

// pausePending reports that d should stop running (paused or ended): the
// scheduler ends a vCPU's slice early when it is.
func (d *Domain) pausePending() bool {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	return d.state != domRunning
}
