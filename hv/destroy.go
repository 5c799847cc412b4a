package hv

import (
	"fmt"

	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
)

// endLocked stops a crashed or shut-down domain, or one being destroyed:
// its vCPUs leave the run queue for good and its console is flushed. Caller
// holds sched.mu.
func (d *Domain) endLocked(st domState, why string) {
	d.state, d.crashReason = st, why
	d.ended.Store(true)
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
	last := d.lastLines.list()
	d.mu.Unlock()
	switch {
	case st == domCrashed:
		d.logf("crashed: %s", why)
		if len(last) > 0 {
			d.logf("its last console lines:")
			for _, l := range last {
				d.logf("| %s", l)
			}
		}
		d.hv.queueEventLocked(event{abi.EventCrashed, d.ID, why})
	case st == domDying:
		d.logf("destroyed")
	case d.exited:
		d.logf("%s", why)
		d.hv.queueEventLocked(event{abi.EventShutdown, d.ID, why})
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
	if s.endableLocked(d) {
		d.endLocked(st, why)
	}
}

// exitDomain shuts d down with the status its guest wrote to its exit port
// (pc.DebugExit): the console says "exited with status S", and Info and
// getdomaininfo keep S.
func (s *Scheduler) exitDomain(d *Domain, status uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.endableLocked(d) {
		d.exited, d.exitStatus = true, status
		d.endLocked(domShutdown, fmt.Sprintf("exited with status %d", status))
	}
}

// endableLocked says whether d may still end (it is running or paused,
// not being destroyed) and, if so, kicks its running vCPUs. Caller holds
// s.mu.
func (s *Scheduler) endableLocked(d *Domain) bool {
	if d.destroying || (d.state != domRunning && d.state != domPaused) {
		return false
	}
	for _, v := range d.vcpus {
		s.kickLocked(v)
	}
	return true
}
