package domgrp_test

import (
	"slices"

	"grove/domgrp"
	"grove/errno"
)

// model is the sequential reference: the semantics of docs/groups.md written
// as plainly as possible, with none of the implementation's structure
// (no snapshots, no rollback: it checks first).
type model struct {
	max    int
	limit  int // fake domains' controller limit
	groups map[domgrp.GroupID]*mgroup
	doms   map[domgrp.DomID]*mdom
}

type mgroup struct {
	name    string
	members []domgrp.DomID
	pauses  int
	policy  domgrp.Policy
	skew    uint64
}

type mdom struct {
	group   domgrp.GroupID
	gang    bool
	count   int // controller pause count
	applied int // pauses held from its group
}

func newModel(max, limit int) *model {
	return &model{max: max, limit: limit,
		groups: map[domgrp.GroupID]*mgroup{0: {name: domgrp.NullName}},
		doms:   map[domgrp.DomID]*mdom{}}
}

func (m *model) add(d domgrp.DomID) error {
	if m.doms[d] != nil {
		return errno.EEXIST
	}
	m.doms[d] = &mdom{}
	m.groups[0].members = append(m.groups[0].members, d)
	return nil
}

func (m *model) remove(d domgrp.DomID) error {
	md := m.doms[d]
	if md == nil {
		return errno.ESRCH
	}
	g := m.groups[md.group]
	g.members = slices.DeleteFunc(g.members, func(x domgrp.DomID) bool { return x == d })
	delete(m.doms, d)
	return nil
}

func (m *model) create(want domgrp.GroupID, name string) (domgrp.GroupID, error) {
	if int(want) >= m.max || name != "" && !validName(name) {
		return 0, errno.EINVAL
	}
	for _, g := range m.groups {
		if name != "" && g.name == name {
			return 0, errno.EEXIST
		}
	}
	if want == 0 {
		for id := 1; id < m.max; id++ {
			if m.groups[domgrp.GroupID(id)] == nil {
				want = domgrp.GroupID(id)
				break
			}
		}
		if want == 0 {
			return 0, errno.ENOSPC
		}
	} else if m.groups[want] != nil {
		return 0, errno.EEXIST
	}
	m.groups[want] = &mgroup{name: name}
	return want, nil
}

func (m *model) destroy(g domgrp.GroupID) error {
	switch {
	case g == 0:
		return errno.EPERM
	case m.groups[g] == nil:
		return errno.ESRCH
	case len(m.groups[g].members) > 0:
		return errno.EBUSY
	}
	delete(m.groups, g)
	return nil
}

func (m *model) join(d domgrp.DomID, g domgrp.GroupID) error {
	md, to := m.doms[d], m.groups[g]
	if md == nil || to == nil {
		return errno.ESRCH
	}
	if md.group == g {
		return nil
	}
	want := to.pauses
	if d == 0 {
		want = 0
	}
	if md.count+want > m.limit {
		return errno.EOVERFLOW
	}
	md.count = max(0, md.count+want-md.applied)
	md.applied = want
	from := m.groups[md.group]
	from.members = slices.DeleteFunc(from.members, func(x domgrp.DomID) bool { return x == d })
	to.members = append(to.members, d)
	md.group = g
	return nil
}

// pause pauses group g for caller; order (nil: none) only has to be
// valid, since the order of the pauses changes no count.
func (m *model) pause(caller domgrp.DomID, g domgrp.GroupID, order []domgrp.DomID) (int, error) {
	mg := m.groups[g]
	switch {
	case g == 0:
		return 0, errno.EPERM
	case mg == nil:
		return 0, errno.ESRCH
	case mg.pauses == domgrp.MaxGroupPauses:
		return 0, errno.EOVERFLOW
	case !mg.validOrder(order):
		return 0, errno.EINVAL
	}
	var targets []*mdom
	for _, d := range mg.members {
		if d != caller && d != 0 {
			targets = append(targets, m.doms[d])
		}
	}
	for _, md := range targets {
		if md.count == m.limit {
			return 0, errno.EOVERFLOW
		}
	}
	for _, md := range targets {
		md.count++
		md.applied++
	}
	mg.pauses++
	return len(targets), nil
}

func (m *model) unpause(g domgrp.GroupID, order []domgrp.DomID) (int, error) {
	mg := m.groups[g]
	switch {
	case g == 0:
		return 0, errno.EPERM
	case mg == nil:
		return 0, errno.ESRCH
	case mg.pauses == 0 || !mg.validOrder(order):
		return 0, errno.EINVAL
	}
	mg.pauses--
	n := 0
	for _, d := range mg.members {
		md := m.doms[d]
		if md.applied > mg.pauses {
			md.applied--
			if md.count > 0 {
				md.count--
				n++
			}
		}
	}
	return n, nil
}

// validOrder: every id a member, none twice.
func (mg *mgroup) validOrder(order []domgrp.DomID) bool {
	for i, d := range order {
		if !slices.Contains(mg.members, d) || slices.Contains(order[:i], d) {
			return false
		}
	}
	return true
}

// validName is domgrp.ValidName written out: 1-32 of a-z 0-9 - _.
func validName(s string) bool {
	ok := len(s) >= 1 && len(s) <= 32
	for _, c := range s {
		ok = ok && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')
	}
	return ok
}

func (m *model) setGang(d domgrp.DomID, on bool) error {
	if m.doms[d] == nil {
		return errno.ESRCH
	}
	m.doms[d].gang = on
	return nil
}

func (m *model) info(g domgrp.GroupID) (domgrp.Info, error) {
	mg := m.groups[g]
	if mg == nil {
		return domgrp.Info{}, errno.ESRCH
	}
	in := domgrp.Info{ID: g, Name: mg.name, Pauses: uint8(mg.pauses), NMembers: uint32(len(mg.members))}
	if g == 0 {
		in.Flags |= domgrp.FlagNull
	}
	if mg.pauses > 0 {
		in.Flags |= domgrp.FlagPaused
	}
	copy(in.Members[:], mg.members)
	for i, d := range in.Members[:min(len(mg.members), domgrp.InfoMembers)] {
		in.Gang[i] = m.doms[d].gang
	}
	in.Policy, in.SkewNS = mg.policy, mg.skew
	return in, nil
}

func (m *model) byName(name string) (domgrp.Info, error) {
	for id, g := range m.groups {
		if name != "" && g.name == name {
			return m.info(id)
		}
	}
	return domgrp.Info{}, errno.ESRCH
}

func (m *model) setPolicy(g domgrp.GroupID, p domgrp.Policy, skew uint64) error {
	switch {
	case g == 0:
		return errno.EPERM
	case p > domgrp.PolicyRelaxed,
		p == domgrp.PolicyRelaxed && (skew < domgrp.MinSkewNS || skew > domgrp.MaxSkewNS),
		p != domgrp.PolicyRelaxed && skew != 0:
		return errno.EINVAL
	case m.groups[g] == nil:
		return errno.ESRCH
	}
	m.groups[g].policy, m.groups[g].skew = p, skew
	return nil
}

func (m *model) list(start domgrp.GroupID, n int) ([]domgrp.GroupID, domgrp.GroupID, error) {
	if n == 0 {
		return nil, 0, errno.EINVAL
	}
	var ids []domgrp.GroupID
	for id := int(start); id < m.max; id++ {
		if m.groups[domgrp.GroupID(id)] == nil {
			continue
		}
		if len(ids) == n {
			return ids, domgrp.GroupID(id), nil
		}
		ids = append(ids, domgrp.GroupID(id))
	}
	return ids, 0, nil
}
