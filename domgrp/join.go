package domgrp

import "grove/errno"

// Join moves domain dom to the end of group gid, out of whatever group it was
// in. Joining the group it is already in changes nothing; joining the null
// group is Leave. ESRCH for an unknown domain or group.
//
// A paused group pauses its new member as many times as its own count
// (dom0 excepted) and waits until it is descheduled; the old group's pauses
// are released only after that, so a domain moving between two paused groups
// never runs in between. If the new pauses would overflow the domain's
// controller count, Join fails with EOVERFLOW and changes nothing.
func (t *Table) Join(dom DomID, gid GroupID) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.snap.Protected()
	d, ok := cur.doms[dom]
	to := cur.Group(gid)
	switch {
	case !ok || to == nil:
		return errno.ESRCH
	case d.Group == gid:
		return nil
	}
	return t.moveLocked(cur, d, dom, to)
}

// Leave moves domain dom back to the null group, releasing the pauses its
// group put on it. ESRCH if unknown; a no-op for an ungrouped domain.
func (t *Table) Leave(dom DomID) error { return t.Join(dom, NullGroup) }

// moveLocked moves domain id (entry d) from its group to the end of to.
// Caller holds mu.
func (t *Table) moveLocked(cur *Snapshot, d DomInfo, id DomID, to *Group) error {
	want := to.pauses
	if id == Dom0 {
		want = 0
	}
	if err := pauseN(d.Dom, int(want)); err != nil {
		return err
	}
	if want > 0 {
		d.Dom.WaitDescheduled()
	}
	unpauseN(d.Dom, int(t.applied[id]))
	t.setAppliedLocked(id, want)

	e := newEdit(cur)
	e.next.groups[d.Group] = cur.groups[d.Group].without(id)
	e.next.groups[to.id] = to.withMember(id)
	t.seq++
	d.Group, d.Seq = to.id, t.seq
	e.setDom(id, d)
	t.snap.Store(e.next)
	return nil
}

// setAppliedLocked records n group pauses held by id. Caller holds mu.
func (t *Table) setAppliedLocked(id DomID, n uint8) {
	if n == 0 {
		delete(t.applied, id)
		return
	}
	t.applied[id] = n
}

// pauseN pauses d n times, all or nothing.
func pauseN(d Domain, n int) error {
	for i := range n {
		if err := d.Pause(); err != nil {
			unpauseN(d, i)
			return err
		}
	}
	return nil
}

// unpauseN releases n pauses domgrp holds on d. An error means someone else
// already released the controller count (e.g. a direct domctl unpause); the
// pause is gone either way, so it is not retried or reported.
func unpauseN(d Domain, n int) {
	for range n {
		_ = d.Unpause()
	}
}
