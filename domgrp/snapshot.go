package domgrp

import "iter"

// Snapshot is one immutable version of the whole membership. Readers get it
// inside an RCU read-side section (Table.Load) and may use it until the
// section ends; nothing in it is ever modified after it is published.
type Snapshot struct {
	groups []*Group // indexed by GroupID; nil where no group exists
	doms   map[DomID]DomInfo
}

// Group is one group in a snapshot.
type Group struct {
	id      GroupID
	pauses  uint8
	members []DomID // join order
	policy  Policy
	skewNS  uint64 // PolicyRelaxed's bound
	name    string // "" for none; unique among named groups
	// order is the pause order recorded by the pause that took the count
	// from 0 (nil: join order); an Unpause given none walks it backwards.
	order []DomID
}

// Name returns the group's name ("" for none).
func (g *Group) Name() string { return g.name }

// Policy returns the group's scheduling policy and its skew bound (ns;
// PolicyRelaxed only).
func (g *Group) Policy() (Policy, uint64) { return g.policy, g.skewNS }

// ID returns the group's id.
func (g *Group) ID() GroupID { return g.id }

// Pauses returns the group's own pause count.
func (g *Group) Pauses() uint8 { return g.pauses }

// Len returns the number of members.
func (g *Group) Len() int { return len(g.members) }

// Member returns the i'th member in join order.
func (g *Group) Member(i int) DomID { return g.members[i] }

// AppendMembers appends the members, in join order, to dst.
func (g *Group) AppendMembers(dst []DomID) []DomID { return append(dst, g.members...) }

// Group returns group id, or nil if it does not exist.
func (s *Snapshot) Group(id GroupID) *Group {
	if int(id) >= len(s.groups) {
		return nil
	}
	return s.groups[id]
}

// byName returns the group called name, or nil ("" names none).
func (s *Snapshot) byName(name string) *Group {
	if name == "" {
		return nil
	}
	for _, g := range s.groups {
		if g != nil && g.name == name {
			return g
		}
	}
	return nil
}

// Groups yields every existing group in id order.
func (s *Snapshot) Groups() iter.Seq[*Group] {
	return func(yield func(*Group) bool) {
		for _, g := range s.groups {
			if g != nil && !yield(g) {
				return
			}
		}
	}
}

// Domain returns what the snapshot records of domain id.
func (s *Snapshot) Domain(id DomID) (DomInfo, bool) {
	d, ok := s.doms[id]
	return d, ok
}

// Domains yields every registered domain, in no particular order.
func (s *Snapshot) Domains() iter.Seq2[DomID, DomInfo] {
	return func(yield func(DomID, DomInfo) bool) {
		for id, d := range s.doms {
			if !yield(id, d) {
				return
			}
		}
	}
}

// NumDomains returns the number of registered domains.
func (s *Snapshot) NumDomains() int { return len(s.doms) }

// edit is a copy-on-write draft of the next snapshot. The group slice is
// copied at once (one pointer per group); the domain map only when a domain
// entry changes, so a group pause costs O(groups), not O(domains).
type edit struct {
	next       *Snapshot
	domsCopied bool
}

func newEdit(cur *Snapshot) *edit {
	next := &Snapshot{groups: make([]*Group, len(cur.groups)), doms: cur.doms}
	copy(next.groups, cur.groups)
	return &edit{next: next}
}

func (e *edit) setDom(id DomID, d DomInfo) {
	e.copyDoms()
	e.next.doms[id] = d
}

func (e *edit) delDom(id DomID) {
	e.copyDoms()
	delete(e.next.doms, id)
}

func (e *edit) copyDoms() {
	if e.domsCopied {
		return
	}
	m := make(map[DomID]DomInfo, len(e.next.doms)+1)
	for id, d := range e.next.doms {
		m[id] = d
	}
	e.next.doms = m
	e.domsCopied = true
}

// withMember returns a copy of g with id appended.
func (g *Group) withMember(id DomID) *Group {
	m := make([]DomID, len(g.members), len(g.members)+1)
	copy(m, g.members)
	ng := *g
	ng.members = append(m, id)
	return &ng
}

// without returns a copy of g without id, keeping the others' order.
func (g *Group) without(id DomID) *Group {
	m := make([]DomID, 0, len(g.members))
	for _, x := range g.members {
		if x != id {
			m = append(m, x)
		}
	}
	ng := *g
	ng.members = m
	return &ng
}

// withPauses returns a copy of g with pause count n and recorded pause
// order; members are shared, which is safe because no snapshot ever
// modifies a member slice.
func (g *Group) withPauses(n uint8, order []DomID) *Group {
	ng := *g
	ng.pauses, ng.order = n, order
	return &ng
}
