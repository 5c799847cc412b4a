package domgrp

import (
	"grove/errno"
	"grove/rcu"
)

// GetInfo describes group gid, read under one read-side section on r.
// ESRCH if it does not exist. It takes no lock and never blocks.
func (t *Table) GetInfo(r *rcu.Reader, gid GroupID) (Info, error) {
	r.Lock()
	defer r.Unlock()
	snap := t.snap.Load(r)
	return info(snap, snap.Group(gid))
}

// GroupOf returns the group domain dom is in, read under one read-side
// section on r; false if dom is not registered.
func (t *Table) GroupOf(r *rcu.Reader, dom DomID) (GroupID, bool) {
	r.Lock()
	defer r.Unlock()
	d, ok := t.snap.Load(r).Domain(dom)
	return d.Group, ok
}

// GetInfoByName describes the group called name, as GetInfo does. ESRCH if
// no group has that name ("" included).
func (t *Table) GetInfoByName(r *rcu.Reader, name string) (Info, error) {
	r.Lock()
	defer r.Unlock()
	snap := t.snap.Load(r)
	return info(snap, snap.byName(name))
}

// info describes g of snap (ESRCH for nil). The caller is inside the
// read-side section snap came from.
func info(snap *Snapshot, g *Group) (Info, error) {
	if g == nil {
		return Info{}, errno.ESRCH
	}
	in := Info{ID: g.id, Name: g.name, Pauses: g.pauses, NMembers: uint32(len(g.members)), Policy: g.policy,
		SkewNS: g.skewNS}
	if g.id == NullGroup {
		in.Flags |= FlagNull
	}
	if g.pauses > 0 {
		in.Flags |= FlagPaused
	}
	copy(in.Members[:], g.members)
	for i, m := range in.Members[:min(len(g.members), InfoMembers)] {
		d, _ := snap.Domain(m)
		in.Gang[i] = d.Gang
	}
	return in, nil
}

// List fills buf with the ids of existing groups >= start, in order, and
// returns how many it wrote and where the next call should start: 0 when
// there are no more (a continuation never starts at 0, since group 0 always
// exists and is the first id). EINVAL for an empty buf.
func (t *Table) List(r *rcu.Reader, start GroupID, buf []GroupID) (n int, next GroupID, err error) {
	if len(buf) == 0 {
		return 0, 0, errno.EINVAL
	}
	r.Lock()
	defer r.Unlock()
	groups := t.snap.Load(r).groups
	for i := int(start); i < len(groups); i++ {
		if groups[i] == nil {
			continue
		}
		if n == len(buf) {
			return n, GroupID(i), nil
		}
		buf[n] = GroupID(i)
		n++
	}
	return n, 0, nil
}
