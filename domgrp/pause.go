package domgrp

import (
	"grove/errno"
	"grove/rcu"
)

// Pause pauses group gid on behalf of domain caller: inside one read-side
// section on r it walks the members in join order, skips caller and dom0,
// pauses each through its controller count, then waits until none of them is
// running, and adds one to the group's own count. It returns how many
// members it paused.
//
// EPERM for the null group; ESRCH if gid does not exist; EOVERFLOW if the
// group's count is at MaxGroupPauses or a member's controller count is full,
// in which case every member paused so far is unpaused again and nothing
// has changed.
func (t *Table) Pause(r *rcu.Reader, caller DomID, gid GroupID) (int, error) {
	if gid == NullGroup {
		return 0, errno.EPERM
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r.Lock()
	defer r.Unlock()
	s := t.snap.Load(r)
	g := s.Group(gid)
	switch {
	case g == nil:
		return 0, errno.ESRCH
	case g.pauses >= MaxGroupPauses:
		return 0, errno.EOVERFLOW
	}
	if i, err := pauseMembers(s, g, caller); err != nil {
		unpauseFirst(s, g, caller, i)
		return 0, err
	}
	n := 0
	for _, id := range g.members {
		if skipped(id, caller) {
			continue
		}
		s.doms[id].Dom.WaitDescheduled()
		t.applied[id]++
		n++
	}
	t.publishPausesLocked(s, g, g.pauses+1)
	return n, nil
}

// skipped reports whether a group pause by caller leaves member id alone.
func skipped(id, caller DomID) bool { return id == caller || id == Dom0 }

// pauseMembers pauses g's members in join order; on failure it returns the
// index of the member that failed.
func pauseMembers(s *Snapshot, g *Group, caller DomID) (int, error) {
	for i, id := range g.members {
		if skipped(id, caller) {
			continue
		}
		if err := s.doms[id].Dom.Pause(); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// unpauseFirst undoes pauseMembers' pauses of members [0, n), newest first.
func unpauseFirst(s *Snapshot, g *Group, caller DomID, n int) {
	for i := n - 1; i >= 0; i-- {
		if id := g.members[i]; !skipped(id, caller) {
			_ = s.doms[id].Dom.Unpause()
		}
	}
}

// Unpause drops group gid's count by one and, walking the members in reverse
// join order, releases one pause from each member holding more group pauses
// than the new count: the members the matching Pause paused, or that joined
// since. It returns how many it released. The caller is not skipped: it can
// only hold such a pause if another domain paused it.
//
// EPERM for the null group; ESRCH if gid does not exist; EINVAL if the group
// is not paused.
func (t *Table) Unpause(r *rcu.Reader, gid GroupID) (int, error) {
	if gid == NullGroup {
		return 0, errno.EPERM
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r.Lock()
	defer r.Unlock()
	s := t.snap.Load(r)
	g := s.Group(gid)
	switch {
	case g == nil:
		return 0, errno.ESRCH
	case g.pauses == 0:
		return 0, errno.EINVAL
	}
	level := g.pauses - 1
	n := 0
	for i := len(g.members) - 1; i >= 0; i-- {
		id := g.members[i]
		if t.applied[id] <= level {
			continue
		}
		if s.doms[id].Dom.Unpause() == nil {
			n++
		}
		t.setAppliedLocked(id, t.applied[id]-1)
	}
	t.publishPausesLocked(s, g, level)
	return n, nil
}

// publishPausesLocked publishes s with group g's count set to n.
// Caller holds mu.
func (t *Table) publishPausesLocked(s *Snapshot, g *Group, n uint8) {
	e := newEdit(s)
	e.next.groups[g.id] = g.withPauses(n)
	t.snap.Store(e.next)
}
