package domgrp

import (
	"fmt"
	"sync"

	"grove/errno"
	"grove/rcu"
)

// Table is the group table: every registered domain and every group.
type Table struct {
	rcu  *rcu.State
	snap rcu.Pointer[Snapshot]

	// mu serializes every change: membership, group pause counts and the
	// Domain.Pause/Unpause calls that go with them. Lock order: mu, then
	// an RCU read-side section; never Synchronize with mu held (readers
	// never take mu, but the caller of a mu-holding op may be a reader).
	mu sync.Mutex
	// applied[d] is how many of its group's pauses domain d holds; it is
	// never above the group's count. Guarded by mu; readers never need it.
	applied map[DomID]uint8
	seq     uint64 // last join stamp; guarded by mu
}

// New returns a table of maxGroups groups (0: DefaultMaxGroups), counting
// the null group, whose readers and writers use rc's grace periods.
func New(rc *rcu.State, maxGroups int) *Table {
	if maxGroups == 0 {
		maxGroups = DefaultMaxGroups
	}
	if maxGroups < 1 || maxGroups > 1<<16 {
		panic(fmt.Sprintf("domgrp: table size %d out of range [1,65536]", maxGroups))
	}
	t := &Table{rcu: rc, applied: make(map[DomID]uint8)}
	s := &Snapshot{groups: make([]*Group, maxGroups), doms: map[DomID]DomInfo{}}
	s.groups[NullGroup] = &Group{id: NullGroup, name: NullName}
	t.snap.Store(s)
	return t
}

// Load returns the current snapshot. r must be inside a read-side section
// and the snapshot may be used only until it ends.
func (t *Table) Load(r *rcu.Reader) *Snapshot { return t.snap.Load(r) }

// groupLocked returns group id of the current snapshot, or nil.
// Caller holds mu.
func (t *Table) groupLocked(id GroupID) *Group { return t.snap.Protected().Group(id) }

// AddDomain registers d in the null group with gang scheduling off. It is
// called when a domain is created. EEXIST if its id is registered; EINVAL
// for a nil d.
func (t *Table) AddDomain(d Domain) error {
	if d == nil {
		return errno.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.snap.Protected()
	id := d.ID()
	if _, ok := cur.doms[id]; ok {
		return errno.EEXIST
	}
	e := newEdit(cur)
	t.seq++
	e.setDom(id, DomInfo{Dom: d, Group: NullGroup, Seq: t.seq})
	e.next.groups[NullGroup] = cur.groups[NullGroup].withMember(id)
	t.snap.Store(e.next)
	return nil
}

// RemoveDomain unregisters domain id and returns after a grace period, so no
// reader still sees it: its pages may then be given back. Its pauses are not
// undone (a dying domain must not run again). ESRCH if unknown. Must not be
// called inside a read-side section.
func (t *Table) RemoveDomain(id DomID) error {
	t.mu.Lock()
	cur := t.snap.Protected()
	d, ok := cur.doms[id]
	if !ok {
		t.mu.Unlock()
		return errno.ESRCH
	}
	e := newEdit(cur)
	e.next.groups[d.Group] = cur.groups[d.Group].without(id)
	e.delDom(id)
	delete(t.applied, id)
	t.snap.Store(e.next)
	t.mu.Unlock()
	t.rcu.Synchronize()
	return nil
}

// Create makes an empty, unpaused group without a name; see CreateNamed.
func (t *Table) Create(want GroupID) (GroupID, error) { return t.CreateNamed(want, "") }

// CreateNamed makes an empty, unpaused group called name ("" for none).
// want 0 asks for the lowest free id. EINVAL if want is beyond the table or
// name is not a valid name (ValidName), EEXIST if the id or the name is
// taken (NullName always is), ENOSPC if no id is free.
func (t *Table) CreateNamed(want GroupID, name string) (GroupID, error) {
	if name != "" && !ValidName(name) {
		return 0, errno.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.snap.Protected()
	switch {
	case int(want) >= len(cur.groups):
		return 0, errno.EINVAL
	case name != "" && cur.byName(name) != nil:
		return 0, errno.EEXIST
	}
	id, err := pickID(cur, want)
	if err != nil {
		return 0, err
	}
	e := newEdit(cur)
	e.next.groups[id] = &Group{id: id, name: name}
	t.snap.Store(e.next)
	return id, nil
}

func pickID(s *Snapshot, want GroupID) (GroupID, error) {
	if int(want) >= len(s.groups) {
		return 0, errno.EINVAL
	}
	if want != NullGroup {
		if s.groups[want] != nil {
			return 0, errno.EEXIST
		}
		return want, nil
	}
	for i := 1; i < len(s.groups); i++ {
		if s.groups[i] == nil {
			return GroupID(i), nil
		}
	}
	return 0, errno.ENOSPC
}

// Destroy removes an empty group. EPERM for the null group, ESRCH if it does
// not exist, EBUSY while it has members. A paused empty group may be
// destroyed: its count paused nobody.
func (t *Table) Destroy(id GroupID) error {
	if id == NullGroup {
		return errno.EPERM
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.groupLocked(id)
	switch {
	case g == nil:
		return errno.ESRCH
	case g.Len() > 0:
		return errno.EBUSY
	}
	e := newEdit(t.snap.Protected())
	e.next.groups[id] = nil
	t.snap.Store(e.next)
	return nil
}

// SetGang sets domain id's opt-in to gang scheduling. ESRCH if unknown.
func (t *Table) SetGang(id DomID, on bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.snap.Protected()
	d, ok := cur.doms[id]
	if !ok {
		return errno.ESRCH
	}
	if d.Gang == on {
		return nil
	}
	d.Gang = on
	e := newEdit(cur)
	e.setDom(id, d)
	t.snap.Store(e.next)
	return nil
}

// SetPolicy sets group gid's scheduling policy and, for PolicyRelaxed, its
// skew bound in ns (MinSkewNS..MaxSkewNS; 0 for the others). EPERM for the
// null group, ESRCH for an unknown one, EINVAL for a bad policy or bound.
// Whether a gang fits the CPUs is the caller's check: domgrp knows no CPUs.
func (t *Table) SetPolicy(gid GroupID, p Policy, skewNS uint64) error {
	switch {
	case gid == NullGroup:
		return errno.EPERM
	case p > PolicyRelaxed:
		return errno.EINVAL
	case p == PolicyRelaxed && (skewNS < MinSkewNS || skewNS > MaxSkewNS):
		return errno.EINVAL
	case p != PolicyRelaxed && skewNS != 0:
		return errno.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.snap.Protected()
	g := cur.Group(gid)
	if g == nil {
		return errno.ESRCH
	}
	e := newEdit(cur)
	ng := *g
	ng.policy, ng.skewNS = p, skewNS
	e.next.groups[gid] = &ng
	t.snap.Store(e.next)
	return nil
}
