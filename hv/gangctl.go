package hv

import (
	"slices"

	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
	"grove/rcu"
)

// Scheduling-group control: the group ops that change who is co-scheduled
// check that a gang fits the CPUs (E2BIG), change domgrp, and refresh the
// scheduler's view of its groups (gang.go).

// joinGroup moves dom into gid (NullGroup: leave).
func (h *Hypervisor) joinGroup(r *rcu.Reader, dom domgrp.DomID, gid domgrp.GroupID) error {
	if err := h.gangFits(r, gid, domgrp.PolicyNone, dom, h.optedIn(r, dom)); err != nil {
		return err
	}
	if err := h.groups.Join(dom, gid); err != nil {
		return err
	}
	h.regroup(r)
	return nil
}

// setGang sets dom's opt-in to its group's policy.
func (h *Hypervisor) setGang(r *rcu.Reader, dom domgrp.DomID, on bool) error {
	if err := h.gangFits(r, h.groupOf(r, dom), domgrp.PolicyNone, dom, on); err != nil {
		return err
	}
	if err := h.groups.SetGang(dom, on); err != nil {
		return err
	}
	h.regroup(r)
	return nil
}

// setGroupPolicy sets gid's policy (domgrp checks the arguments).
func (h *Hypervisor) setGroupPolicy(r *rcu.Reader, gid domgrp.GroupID, p domgrp.Policy, skewNS uint64) error {
	if gid == domgrp.NullGroup {
		return errno.EPERM // before the size check: the null group never has a policy
	}
	if p == domgrp.PolicyGang {
		if err := h.gangFits(r, gid, p, 0xffff, false); err != nil {
			return err
		}
	}
	if err := h.groups.SetPolicy(gid, p, skewNS); err != nil {
		return err
	}
	h.regroup(r)
	return nil
}

// groupOf and optedIn read dom's group and opt-in (NullGroup, false if
// unknown: the domgrp op then reports ESRCH).
func (h *Hypervisor) groupOf(r *rcu.Reader, dom domgrp.DomID) domgrp.GroupID {
	r.Lock()
	defer r.Unlock()
	d, _ := h.groups.Load(r).Domain(dom)
	return d.Group
}

func (h *Hypervisor) optedIn(r *rcu.Reader, dom domgrp.DomID) bool {
	r.Lock()
	defer r.Unlock()
	d, _ := h.groups.Load(r).Domain(dom)
	return d.Gang
}

// groupStats reads (and with reset zeroes) gid's counters.
func (h *Hypervisor) groupStats(r *rcu.Reader, gid domgrp.GroupID, reset bool) (abi.GroupStats, error) {
	in, err := h.groups.GetInfo(r, gid)
	if err != nil {
		return abi.GroupStats{}, err
	}
	return h.sched.stats(gid, in.Policy, reset), nil
}

// regroup rebuilds the scheduler's groups from domgrp's table: each group
// with a policy and the vCPUs of its opted-in members. Counters carry over;
// a vCPU that stops or starts being a gang member moves between its
// group's pool and the run queues, so none is lost or queued twice; a
// running one changes at its next slot.
func (h *Hypervisor) regroup(r *rcu.Reader) {
	r.Lock()
	snap := h.groups.Load(r)
	type want struct {
		p    domgrp.Policy
		skew uint64
		doms []domgrp.DomID
	}
	wants := map[domgrp.GroupID]want{}
	for g := range snap.Groups() {
		p, skew := g.Policy()
		if p == domgrp.PolicyNone {
			continue
		}
		w := want{p: p, skew: skew}
		for i := 0; i < g.Len(); i++ {
			if d, ok := snap.Domain(g.Member(i)); ok && d.Gang {
				w.doms = append(w.doms, g.Member(i))
			}
		}
		wants[g.ID()] = w
	}
	r.Unlock()
	doms := h.Domains()
	byID := map[domgrp.DomID]*Domain{}
	for _, d := range doms {
		byID[domgrp.DomID(d.ID)] = d
	}
	s := h.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.groups
	s.groups, s.gangs = map[domgrp.GroupID]*schedGroup{}, nil
	for id, w := range wants {
		g := &schedGroup{id: id, policy: w.p, skewNS: int64(w.skew)}
		if o := old[id]; o != nil {
			g.ctr = o.ctr
		}
		for _, m := range w.doms {
			if d := byID[m]; d != nil {
				g.vcpus = append(g.vcpus, d.vcpus...)
			}
		}
		s.groups[id] = g
		if g.gang() {
			s.gangs = append(s.gangs, g)
		}
	}
	slices.SortFunc(s.gangs, func(a, b *schedGroup) int { return int(a.id) - int(b.id) })
	for _, d := range doms {
		for _, v := range d.vcpus {
			s.setGroupLocked(v, nil)
		}
	}
	for _, g := range s.groups {
		for _, v := range g.vcpus {
			s.setGroupLocked(v, g)
		}
	}
}

// setGroupLocked gives v its scheduling group, moving a runnable v between
// the run queues and its group's pool when it changes kind.
func (s *Scheduler) setGroupLocked(v *VCPU, g *schedGroup) {
	was, before := v.isGang(), v.sg
	v.sg = g
	if g != before && v.state != vcpuRunning {
		v.levelLocked() // new to a relaxed group: not behind its siblings
	}
	if !v.isGang() {
		for i, a := range s.plan.assign {
			if a == v {
				s.plan.assign[i] = nil // no longer in the gang of this slot
			}
		}
	}
	if v.state != vcpuRunnable || was == v.isGang() {
		return
	}
	if v.isGang() {
		s.removeLocked(v)
		s.gangWokeLocked(v)
		return
	}
	v.state = vcpuPaused // re-placed as an independent vCPU
	s.enqueueLocked(v)
}

// gangFits checks that group gid, under policy p (PolicyNone: its own), with
// its opted-in members -- dom counted as opted in when with is set, left out
// otherwise -- has no more vCPUs than there are CPUs: E2BIG otherwise (a gang
// that could never run).
func (h *Hypervisor) gangFits(r *rcu.Reader, gid domgrp.GroupID, p domgrp.Policy, dom domgrp.DomID, with bool) error {
	r.Lock()
	snap := h.groups.Load(r)
	g := snap.Group(gid)
	var doms []domgrp.DomID
	if g != nil {
		if p == domgrp.PolicyNone {
			p, _ = g.Policy()
		}
		for i := 0; i < g.Len(); i++ {
			if d, ok := snap.Domain(g.Member(i)); ok && d.Gang && g.Member(i) != dom {
				doms = append(doms, g.Member(i))
			}
		}
	}
	r.Unlock()
	if g == nil || p != domgrp.PolicyGang {
		return nil // domgrp reports a missing group
	}
	if with {
		doms = append(doms, dom)
	}
	n := 0
	for _, id := range doms {
		if d, ok := h.Domain(DomID(id)); ok {
			n += len(d.vcpus)
		}
	}
	if n > len(h.sched.cpus) {
		return errno.E2BIG
	}
	return nil
}
