package fakeagent

import (
	"slices"

	"grove/ctl/proto"
	"grove/errno"
)

// joinLocked moves domain id into group gid (0 = leave), taking the new
// group's pauses before releasing the old group's, as domgrp does.
func (a *Agent) joinLocked(id, gid int) error {
	d, ok := a.domains[id]
	g, gok := a.groups[gid]
	if !ok || !gok {
		return errno.ESRCH
	}
	if d.info.Group == gid {
		return nil
	}
	if d.gang {
		if err := a.fits(g, g.policy, id, d.vcpus); err != nil {
			return err
		}
	}
	take := g.pauses
	if id == 0 {
		take = 0
	}
	if d.info.PauseCount-d.groupPauses+take > MaxPauses {
		return errno.EOVERFLOW
	}
	old := a.groups[d.info.Group]
	old.members = slices.DeleteFunc(old.members, func(m int) bool { return m == id })
	d.info.PauseCount += take - d.groupPauses
	d.groupPauses = take
	d.info.Group = gid
	d.info.State = state(d)
	g.members = append(g.members, id)
	return nil
}

// groupPause pauses a group in the order given, then the members it does
// not name in join order, all or nothing, as domgrp's PauseOrdered.
func (a *Agent) groupPause(x args) (any, error) {
	g, err := a.pausable(x.group())
	if err != nil {
		return nil, err
	}
	if g.pauses >= MaxPauses {
		return nil, errno.EOVERFLOW
	}
	walk, err := walkOrder(g, x.Order, true)
	if err != nil {
		return nil, err
	}
	n := 0
	for i, id := range walk {
		if d := a.domains[id]; id != 0 {
			if d.info.PauseCount >= MaxPauses {
				a.undoLocked(walk[:i])
				return nil, errno.EOVERFLOW
			}
			d.info.PauseCount++
			d.groupPauses++
			d.info.State = state(d)
			n++
		}
	}
	if g.pauses == 0 {
		g.order = nil
		if x.Order != nil {
			g.order = walk
		}
	}
	g.pauses++
	return proto.Count{Count: n}, nil
}

// walkOrder is g's members in pause order: those order names, then the
// rest in join order. strict refuses (EINVAL) an order naming a
// non-member or one twice, or holding an id the ABI cannot carry;
// otherwise (the recorded order) such ids are dropped.
func walkOrder(g *group, order []int, strict bool) ([]int, error) {
	if strict {
		if err := (proto.PauseArgs{Order: order}).Check(); err != nil {
			return nil, err
		}
	}
	var walk []int
	for _, id := range order {
		if slices.Contains(walk, id) || !slices.Contains(g.members, id) {
			if strict {
				return nil, errno.EINVAL
			}
			continue
		}
		walk = append(walk, id)
	}
	for _, id := range g.members {
		if !slices.Contains(walk, id) {
			walk = append(walk, id)
		}
	}
	return walk, nil
}

// undoLocked takes back one group pause from each of ids, newest first
// (all or nothing).
func (a *Agent) undoLocked(ids []int) {
	for _, id := range slices.Backward(ids) {
		if d := a.domains[id]; id != 0 {
			d.info.PauseCount--
			d.groupPauses--
			d.info.State = state(d)
		}
	}
}

// groupUnpause walks the pause order (given, or recorded) backwards.
func (a *Agent) groupUnpause(x args) (any, error) {
	g, err := a.pausable(x.group())
	if err != nil {
		return nil, err
	}
	if g.pauses == 0 {
		return nil, errno.EINVAL
	}
	walk, err := walkOrder(g, g.order, false)
	if x.Order != nil {
		walk, err = walkOrder(g, x.Order, true)
	}
	if err != nil {
		return nil, err
	}
	g.pauses--
	n := 0
	for _, id := range slices.Backward(walk) {
		if d := a.domains[id]; d.groupPauses > g.pauses && d.info.PauseCount > 0 {
			d.groupPauses--
			d.info.PauseCount--
			d.info.State = state(d)
			n++
		}
	}
	if g.pauses == 0 {
		g.order = nil
	}
	return proto.Count{Count: n}, nil
}

func (a *Agent) pausable(gid int) (*group, error) {
	g, ok := a.groups[gid]
	switch {
	case gid == 0:
		return nil, errno.EPERM
	case !ok:
		return nil, errno.ESRCH
	}
	return g, nil
}

// groupByNameLocked finds a group by name.
func (a *Agent) groupByNameLocked(name string) (int, bool) {
	for id, g := range a.groups {
		if g.name == name {
			return id, true
		}
	}
	return 0, false
}

// groupInfo is group.info, by name when one is given.
func (a *Agent) groupInfo(x args) (any, error) {
	gid := x.group()
	if x.Name != nil && *x.Name != "" {
		id, ok := a.groupByNameLocked(*x.Name)
		if !ok {
			return nil, errno.ESRCH
		}
		gid = id
	}
	return a.groupInfoLocked(gid)
}

func (a *Agent) groupInfoLocked(gid int) (proto.GroupInfo, error) {
	g, ok := a.groups[gid]
	if !ok {
		return proto.GroupInfo{}, errno.ESRCH
	}
	info := proto.GroupInfo{ID: gid, Name: g.name, Members: slices.Clone(g.members), PauseCount: g.pauses,
		Paused: g.pauses > 0, MemberInfo: []proto.MemberInfo{}}
	if info.Members == nil {
		info.Members = []int{}
	}
	if gid == 0 {
		info.Flags |= proto.GroupFlagNull
	}
	if info.Paused {
		info.Flags |= proto.GroupFlagPaused
	}
	a.schedInfo(&info, g)
	for _, id := range info.Members {
		d := a.domains[id]
		m := proto.MemberInfo{ID: id, Name: d.info.Name, State: d.info.State, Flags: []string{}}
		if d.gang {
			m.Flags = append(m.Flags, proto.MemberGang)
		}
		if id == 0 {
			m.Flags = append(m.Flags, proto.MemberControl)
		}
		info.MemberInfo = append(info.MemberInfo, m)
	}
	return info, nil
}

func (a *Agent) groupList(x args) (any, error) {
	start, max := deref(x.Start), deref(x.Max)
	if start < 0 || max <= 0 {
		return nil, errno.EINVAL
	}
	out := proto.GroupList{Groups: []int{}}
	for id := start; id < MaxGroups; id++ {
		if a.groups[id] == nil {
			continue
		}
		if len(out.Groups) == max {
			out.Next = id
			break
		}
		out.Groups = append(out.Groups, id)
	}
	return out, nil
}

func (a *Agent) gang(x args) (any, error) {
	d, ok := a.domains[x.dom()]
	if !ok {
		return nil, errno.ESRCH
	}
	on := x.Gang != nil && *x.Gang
	if g := a.groups[d.info.Group]; on {
		if err := a.fits(g, g.policy, x.dom(), d.vcpus); err != nil {
			return nil, err
		}
	}
	d.gang = on
	return nil, nil
}
