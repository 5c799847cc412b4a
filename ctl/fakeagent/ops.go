package fakeagent

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"grove/ctl/proto"
	"grove/domgrp"
	"grove/errno"
)

// args is the union of every op's arguments; the log shows only those an
// op was given.
type args struct {
	Domain *int  `json:"domain"`
	Group  *int  `json:"group"`
	Start  *int  `json:"start"`
	Max    *int  `json:"max"`
	Gang   *bool `json:"gang"`
	// group.create and group.info: the group's name; group.pause and
	// group.unpause: the pause order.
	Name  *string `json:"name"`
	Order []int   `json:"order"`
	// group.policy and group.stats.
	Policy *string `json:"policy"`
	SkewNS *int64  `json:"skew_ns"`
	Reset  *bool   `json:"reset"`
	// Reactions is reactions.set's list, kept as given.
	Reactions []proto.Reaction `json:"reactions"`
}

func (a args) log(op string) string {
	parts := []string{op}
	for _, p := range []*int{a.Group, a.Domain, a.Start, a.Max} {
		if p != nil {
			parts = append(parts, fmt.Sprint(*p))
		}
	}
	if a.Name != nil {
		parts = append(parts, "name="+*a.Name)
	}
	if a.Order != nil {
		ids := make([]string, len(a.Order))
		for i, id := range a.Order {
			ids[i] = fmt.Sprint(id)
		}
		parts = append(parts, "order="+strings.Join(ids, ","))
	}
	if a.Policy != nil {
		parts = append(parts, *a.Policy)
	}
	for _, p := range []*bool{a.Gang, a.Reset} {
		if p != nil {
			parts = append(parts, fmt.Sprint(*p))
		}
	}
	if a.SkewNS != nil {
		parts = append(parts, fmt.Sprint(*a.SkewNS))
	}
	return strings.Join(parts, " ")
}

func (a args) dom() int   { return deref(a.Domain) }
func (a args) group() int { return deref(a.Group) }

func deref(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// Each op runs with Agent.mu held.
var ops = map[string]func(a *Agent, x args) (any, error){
	proto.OpList:           (*Agent).list,
	proto.OpPause:          func(a *Agent, x args) (any, error) { return nil, a.pauseLocked(x.dom()) },
	proto.OpUnpause:        func(a *Agent, x args) (any, error) { return nil, a.unpauseLocked(x.dom()) },
	proto.OpDestroy:        (*Agent).destroy,
	proto.OpGroupCreate:    (*Agent).groupCreate,
	proto.OpGroupDestroy:   (*Agent).groupDestroy,
	proto.OpGroupJoin:      func(a *Agent, x args) (any, error) { return nil, a.joinLocked(x.dom(), x.group()) },
	proto.OpGroupLeave:     func(a *Agent, x args) (any, error) { return nil, a.joinLocked(x.dom(), 0) },
	proto.OpGroupPause:     (*Agent).groupPause,
	proto.OpGroupUnpause:   (*Agent).groupUnpause,
	proto.OpGroupInfo:      (*Agent).groupInfo,
	proto.OpGroupList:      (*Agent).groupList,
	proto.OpGroupGang:      (*Agent).gang,
	proto.OpGroupPolicy:    (*Agent).setPolicy,
	proto.OpGroupStats:     (*Agent).stats,
	proto.OpEventSubscribe: func(*Agent, args) (any, error) { return nil, nil },
	proto.OpReactionsSet:   (*Agent).setReactions,
}

func (a *Agent) list(args) (any, error) {
	var out proto.DomainList
	for _, d := range a.domains {
		out.Domains = append(out.Domains, d.info)
	}
	sort.Slice(out.Domains, func(i, j int) bool { return out.Domains[i].ID < out.Domains[j].ID })
	return out, nil
}

func (a *Agent) pauseLocked(id int) error {
	d, ok := a.domains[id]
	switch {
	case !ok:
		return errno.ESRCH
	case d.info.PauseCount >= MaxPauses:
		return errno.EOVERFLOW
	}
	d.info.PauseCount++
	d.info.State = state(d)
	return nil
}

func (a *Agent) unpauseLocked(id int) error {
	d, ok := a.domains[id]
	switch {
	case !ok:
		return errno.ESRCH
	case d.info.PauseCount == 0:
		return errno.EINVAL
	}
	d.info.PauseCount--
	d.info.State = state(d)
	return nil
}

func state(d *domain) string {
	switch {
	case d.info.State == "crashed":
		return "crashed"
	case d.info.PauseCount > 0:
		return "paused"
	}
	return "running"
}

func (a *Agent) destroy(x args) (any, error) {
	id := x.dom()
	d, ok := a.domains[id]
	switch {
	case !ok:
		return nil, errno.ESRCH
	case id == 0:
		return nil, errno.EPERM
	}
	g := a.groups[d.info.Group]
	g.members = slices.DeleteFunc(g.members, func(m int) bool { return m == id })
	delete(a.domains, id)
	return nil, nil
}

func (a *Agent) groupCreate(x args) (any, error) {
	want, name := x.group(), ""
	if x.Name != nil {
		name = *x.Name
	}
	if want < 0 || want >= MaxGroups || name != "" && !domgrp.ValidName(name) {
		return nil, errno.EINVAL
	}
	if _, taken := a.groupByNameLocked(name); taken && name != "" {
		return nil, errno.EEXIST
	}
	if want == 0 {
		for want = 1; want < MaxGroups && a.groups[want] != nil; want++ {
		}
		if want == MaxGroups {
			return nil, errno.ENOSPC
		}
	}
	if a.groups[want] != nil {
		return nil, errno.EEXIST
	}
	a.groups[want] = &group{name: name}
	return proto.GroupID{Group: want}, nil
}

func (a *Agent) groupDestroy(x args) (any, error) {
	id := x.group()
	g, ok := a.groups[id]
	switch {
	case id == 0:
		return nil, errno.EPERM
	case !ok:
		return nil, errno.ESRCH
	case len(g.members) > 0:
		return nil, errno.EBUSY
	}
	delete(a.groups, id)
	return nil, nil
}

// setReactions stores the agent's standing reactions (the fake only keeps
// them for tests to read).
func (a *Agent) setReactions(x args) (any, error) {
	for _, r := range x.Reactions {
		if _, ok := a.groups[r.Group]; !ok || r.Group == 0 {
			return nil, fmt.Errorf("reaction on group %d: %w", r.Group, errno.ESRCH)
		}
		if err := (proto.PauseArgs{Group: r.Group, Order: r.Order}).Check(); err != nil {
			return nil, fmt.Errorf("reaction on group %d: %w", r.Group, err)
		}
	}
	a.reactions = x.Reactions
	return nil, nil
}

// Reactions returns what reactions.set stored.
func (a *Agent) Reactions() []proto.Reaction {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reactions)
}
