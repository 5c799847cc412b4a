package hv

import (
	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
)

// endLocked stops a crashed or shut-down domain, or one being destroyed:
// its vCPUs leave the run queue for good and its console is flushed. Caller
// holds sched.mu.
func (d *Domain) endLocked(st domState, why string) {
	d.state, d.crashReason = st, why
	if d.pc != nil {
		d.pc.stop()
	}
	for _, v := range d.vcpus {
		if v.state == vcpuRunnable {
			d.hv.sched.removeLocked(v)
		}
		v.state = vcpuDead
		if v.hostTimer != nil {
			v.hostTimer.Stop()
		}
	}
	d.mu.Lock()
	if d.console.Len() > 0 {
		d.flushLocked()
	}
	d.mu.Unlock()
	switch st {
	case domCrashed:
		d.logf("crashed: %s", why)
		d.hv.queueEventLocked(event{abi.EventCrashed, d.ID, why})
	case domDying:
		d.logf("destroyed")
	default:
		d.logf("shut down (%s)", why)
		d.hv.queueEventLocked(event{abi.EventShutdown, d.ID, why})
	}
}

// Destroy ends d and removes it; its memory goes back to the kernel after
// an RCU grace period, when no reader can still hold the domain. ESRCH if d
// is already being destroyed (its pages and id must be given back once).
func (h *Hypervisor) Destroy(d *Domain) error {
	s := h.sched
	s.mu.Lock()
	if d.destroying {
		s.mu.Unlock()
		return errno.ESRCH
	}
	d.destroying = true
	for _, v := range d.vcpus {
		s.kickLocked(v)
		for v.state == vcpuRunning {
			s.offCPU.Wait()
		}
	}
	if d.state != domCrashed && d.state != domShutdown {
		d.endLocked(domDying, "destroyed")
	}
	d.state = domDying
	for _, c := range s.cpus {
		for asid, v := range c.asidOwner {
			if v != nil && v.dom == d {
				c.asidOwner[asid] = nil
			}
		}
	}
	s.mu.Unlock()
	h.groups.RemoveDomain(domgrp.DomID(d.ID)) // waits for a grace period
	h.unregister(d)
	h.rcu.Call(d.free)
	return nil
}

// endDomain ends d on behalf of one of its devices (ACPI power off, a reset
// request): what a guest's shutdown hypercall does, from outside an exit.
// Its running vCPUs are kicked so that they stop now rather than at the end
// of their slices.
func (s *Scheduler) endDomain(d *Domain, st domState, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.destroying || (d.state != domRunning && d.state != domPaused) {
		return
	}
	for _, v := range d.vcpus {
		s.kickLocked(v)
	}
	d.endLocked(st, why)
}
