package domgrp

import (
	"slices"

	"grove/errno"
	"grove/rcu"
)

// Pause is PauseOrdered in join order.
func (t *Table) Pause(r *rcu.Reader, caller DomID, gid GroupID) (int, error) {
	return t.PauseOrdered(r, caller, gid, nil)
}

// PauseOrdered pauses group gid on behalf of domain caller: inside one
// read-side section on r it walks the members in pause order (walkOrder:
// those order names, in its order, then the others in join order), skips
// caller and dom0, pauses each through its controller count, then waits
// until none of them is running, and adds one to the group's own count.
// The pause that takes the count from 0 records its order, which an
// Unpause given none walks backwards. It returns how many members it
// paused.
//
// EPERM for the null group; ESRCH if gid does not exist; EINVAL if order
// names a domain that is not a member, or one twice; EOVERFLOW if the
// group's count is at MaxGroupPauses or a member's controller count is
// full, in which case every member paused so far is unpaused again, newest
// first, and nothing has changed.
func (t *Table) PauseOrdered(r *rcu.Reader, caller DomID, gid GroupID, order []DomID) (int, error) {
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
	walk, err := walkOrder(g, order, true)
	if err != nil {
		return 0, err
	}
	if i, err := pauseMembers(s, walk, caller); err != nil {
		unpauseFirst(s, walk, caller, i)
		return 0, err
	}
	n := 0
	for _, id := range walk {
		if skipped(id, caller) {
			continue
		}
		s.doms[id].Dom.WaitDescheduled()
		t.applied[id]++
		n++
	}
	rec := g.order
	if g.pauses == 0 {
		rec = nil
		if order != nil {
			rec = walk
		}
	}
	t.publishPausesLocked(s, g, g.pauses+1, rec)
	return n, nil
}

// walkOrder returns g's members in pause order: those order names first,
// in its order, then the others in join order (nil order: join order, the
// member slice itself, which must not be modified). strict refuses, with
// EINVAL, an order naming a domain that is not a member or naming one
// twice; otherwise (a recorded order, which members may have left since)
// such ids are dropped.
func walkOrder(g *Group, order []DomID, strict bool) ([]DomID, error) {
	if order == nil {
		return g.members, nil
	}
	walk := make([]DomID, 0, len(g.members))
	named := make(map[DomID]bool, len(g.members)) // false: a member not named yet
	for _, id := range g.members {
		named[id] = false
	}
	for _, id := range order {
		if seen, member := named[id]; seen || !member {
			if strict {
				return nil, errno.EINVAL
			}
			continue
		}
		named[id] = true
		walk = append(walk, id)
	}
	for _, id := range g.members {
		if !named[id] {
			walk = append(walk, id)
		}
	}
	return walk, nil
}

// skipped reports whether a group pause by caller leaves member id alone.
func skipped(id, caller DomID) bool { return id == caller || id == Dom0 }

// pauseMembers pauses the members of walk in its order; on failure it
// returns the index of the member that failed.
func pauseMembers(s *Snapshot, walk []DomID, caller DomID) (int, error) {
	for i, id := range walk {
		if skipped(id, caller) {
			continue
		}
		if err := s.doms[id].Dom.Pause(); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// unpauseFirst undoes pauseMembers' pauses of walk[:n], newest first.
func unpauseFirst(s *Snapshot, walk []DomID, caller DomID, n int) {
	for _, id := range slices.Backward(walk[:n]) {
		if !skipped(id, caller) {
			_ = s.doms[id].Dom.Unpause()
		}
	}
}

// Unpause is UnpauseOrdered with no order: the reverse of the order the
// group's outermost pause recorded, or of join order.
func (t *Table) Unpause(r *rcu.Reader, gid GroupID) (int, error) {
	return t.UnpauseOrdered(r, gid, nil)
}

// UnpauseOrdered drops group gid's count by one and, walking the members
// in reverse pause order, releases one pause from each member holding more
// group pauses than the new count: the members the matching pause paused,
// or that joined since. order is a pause order as PauseOrdered takes it
// (walked backwards here); nil means the one the group's outermost pause
// recorded, with members that joined since placed as unnamed ones. It
// returns how many it released. The caller is not skipped: it can only
// hold such a pause if another domain paused it.
//
// EPERM for the null group; ESRCH if gid does not exist; EINVAL if the
// group is not paused, or order names a non-member or one twice.
func (t *Table) UnpauseOrdered(r *rcu.Reader, gid GroupID, order []DomID) (int, error) {
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
	walk, err := walkOrder(g, g.order, false)
	if order != nil {
		walk, err = walkOrder(g, order, true)
	}
	if err != nil {
		return 0, err
	}
	level := g.pauses - 1
	n := 0
	for _, id := range slices.Backward(walk) {
		if t.applied[id] <= level {
			continue
		}
		if s.doms[id].Dom.Unpause() == nil {
			n++
		}
		t.setAppliedLocked(id, t.applied[id]-1)
	}
	rec := g.order
	if level == 0 {
		rec = nil
	}
	t.publishPausesLocked(s, g, level, rec)
	return n, nil
}

// publishPausesLocked publishes s with group g's count set to n and its
// recorded pause order to order. Caller holds mu.
func (t *Table) publishPausesLocked(s *Snapshot, g *Group, n uint8, order []DomID) {
	e := newEdit(s)
	e.next.groups[g.id] = g.withPauses(n, order)
	t.snap.Store(e.next)
}
