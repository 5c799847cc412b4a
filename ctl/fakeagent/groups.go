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

func (a *Agent) groupPause(x args) (any, error) {
	g, err := a.pausable(x.group())
	if err != nil {
		return nil, err
	}
	if g.pauses >= MaxPauses {
		return nil, errno.EOVERFLOW
	}
	n := 0
	for _, id := range g.members {
		if d := a.domains[id]; id != 0 {
			if d.info.PauseCount >= MaxPauses {
				a.undoLocked(g.members[:slices.Index(g.members, id)])
				return nil, errno.EOVERFLOW
			}
			d.info.PauseCount++
			d.groupPauses++
			d.info.State = state(d)
			n++
		}
	}
	g.pauses++
	return proto.Count{Count: n}, nil
}

// undoLocked takes back one group pause from each of ids (all or nothing).
func (a *Agent) undoLocked(ids []int) {
	for _, id := range slices.Backward(ids) {
		if d := a.domains[id]; id != 0 {
			d.info.PauseCount--
			d.groupPauses--
			d.info.State = state(d)
		}
	}
}

func (a *Agent) groupUnpause(x args) (any, error) {
	g, err := a.pausable(x.group())
	if err != nil {
		return nil, err
	}
	if g.pauses == 0 {
		return nil, errno.EINVAL
	}
	g.pauses--
	n := 0
	for _, id := range slices.Backward(g.members) {
		if d := a.domains[id]; d.groupPauses > g.pauses && d.info.PauseCount > 0 {
			d.groupPauses--
			d.info.PauseCount--
			d.info.State = state(d)
			n++
		}
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

func (a *Agent) groupInfoLocked(gid int) (proto.GroupInfo, error) {
	g, ok := a.groups[gid]
	if !ok {
		return proto.GroupInfo{}, errno.ESRCH
	}
	info := proto.GroupInfo{ID: gid, Members: slices.Clone(g.members), PauseCount: g.pauses, Paused: g.pauses > 0}
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
