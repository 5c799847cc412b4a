package domgrp_test

import (
	"errors"
	"fmt"
	"slices"

	"grove/domgrp"
	"grove/domgrp/domgrptest"
	"grove/errno"
	"grove/rcu"
)

// Model and fuzz runs use a small universe so random operations collide:
// 6 domain ids, an 6-group table (id 6 and 7 are out of range) and a
// controller limit of 4 so EOVERFLOW is reachable.
const (
	runDoms   = 6
	runGroups = 6
	runLimit  = 4
	opBytes   = 3
)

// runner applies the same operations to a Table and to the model.
type runner struct {
	tab   *domgrp.Table
	rc    *rcu.State
	r     *rcu.Reader
	m     *model
	fakes map[domgrp.DomID]*domgrptest.Domain
	log   []string // operations so far, for failure messages
}

func newRunner() *runner {
	rc := rcu.New(2)
	return &runner{tab: domgrp.New(rc, runGroups), rc: rc, r: rc.Reader(0),
		m: newModel(runGroups, runLimit), fakes: map[domgrp.DomID]*domgrptest.Domain{}}
}

// run decodes ops (opBytes each) and applies them, checking after each step.
func (x *runner) run(ops []byte) error {
	for ; len(ops) >= opBytes; ops = ops[opBytes:] {
		if err := x.step(ops[0], ops[1], ops[2]); err != nil {
			return fmt.Errorf("%w\nlast operations: %v", err, x.log[max(0, len(x.log)-30):])
		}
	}
	return nil
}

func (x *runner) step(op, a, b byte) error {
	d, g := domgrp.DomID(a%runDoms), domgrp.GroupID(b%(runGroups+2))
	name, got, want := x.apply(op%14, d, g, a, b)
	x.log = append(x.log, name)
	if got != want {
		return fmt.Errorf("%s: table returned %s, model %s", name, got, want)
	}
	return x.compare()
}

// apply runs one operation on both sides and renders each result.
func (x *runner) apply(op byte, d domgrp.DomID, g domgrp.GroupID, a, b byte) (name, got, want string) {
	switch op {
	case 0:
		f := domgrptest.New(d).WithLimit(runLimit)
		err := x.tab.AddDomain(f)
		if err == nil {
			x.fakes[d] = f
		}
		return fmt.Sprintf("add(%d)", d), res(0, err), res(0, x.m.add(d))
	case 1:
		return fmt.Sprintf("remove(%d)", d), res(0, x.tab.RemoveDomain(d)), res(0, x.m.remove(d))
	case 2:
		n := names[a%byte(len(names))]
		id, err := x.tab.CreateNamed(g, n)
		mid, merr := x.m.create(g, n)
		return fmt.Sprintf("create(%d,%q)", g, n), res(int(id), err), res(int(mid), merr)
	case 3:
		return fmt.Sprintf("destroy(%d)", g), res(0, x.tab.Destroy(g)), res(0, x.m.destroy(g))
	case 4:
		return fmt.Sprintf("join(%d,%d)", d, g), res(0, x.tab.Join(d, g)), res(0, x.m.join(d, g))
	case 5:
		return fmt.Sprintf("leave(%d)", d), res(0, x.tab.Leave(d)), res(0, x.m.join(d, 0))
	case 6:
		n, err := x.tab.Pause(x.r, d, g)
		mn, merr := x.m.pause(d, g, nil)
		return fmt.Sprintf("pause(caller %d,%d)", d, g), res(n, err), res(mn, merr)
	case 7:
		n, err := x.tab.Unpause(x.r, g)
		mn, merr := x.m.unpause(g, nil)
		return fmt.Sprintf("unpause(%d)", g), res(n, err), res(mn, merr)
	case 12:
		o := order(a, b)
		n, err := x.tab.PauseOrdered(x.r, 0, g, o)
		mn, merr := x.m.pause(0, g, o)
		return fmt.Sprintf("pause(%d,order %v)", g, o), res(n, err), res(mn, merr)
	case 13:
		o := order(a, b)
		n, err := x.tab.UnpauseOrdered(x.r, g, o)
		mn, merr := x.m.unpause(g, o)
		return fmt.Sprintf("unpause(%d,order %v)", g, o), res(n, err), res(mn, merr)
	case 8:
		on := b&0x80 != 0
		return fmt.Sprintf("gang(%d,%v)", d, on), res(0, x.tab.SetGang(d, on)), res(0, x.m.setGang(d, on))
	case 9:
		return x.external(d, b&1 == 0)
	case 10:
		p, skew := domgrp.Policy(a%4), uint64(b%3)*domgrp.MinSkewNS*10
		return fmt.Sprintf("policy(%d,%d,%d)", g, p, skew), res(0, x.tab.SetPolicy(g, p, skew)), res(0, x.m.setPolicy(g, p, skew))
	default:
		return x.queries(g, int(a%4))
	}
}

// external pauses or unpauses a domain directly, as a plain domctl
// pausedomain would, so domgrp meets counts it did not set.
func (x *runner) external(d domgrp.DomID, pause bool) (name, got, want string) {
	f, md := x.fakes[d], x.m.doms[d]
	if f == nil || md == nil {
		return fmt.Sprintf("ext(%d)", d), "skip", "skip"
	}
	if pause {
		var want error = errno.EOVERFLOW
		if md.count < runLimit {
			md.count++
			want = nil
		}
		return fmt.Sprintf("extpause(%d)", d), res(0, f.Pause()), res(0, want)
	}
	if md.count > 0 {
		md.count--
	}
	return fmt.Sprintf("extunpause(%d)", d), res(0, nilIfEINVAL(f.Unpause())), res(0, nil)
}

func nilIfEINVAL(err error) error {
	if errors.Is(err, errno.EINVAL) {
		return nil
	}
	return err
}

// names are the group names creates pick from: none, two valid ones, the
// null group's (always taken) and two invalid ones.
var names = []string{"", "web", "db", domgrp.NullName, "Web", "a.b"}

// order makes a pause order of up to two domain ids from the op's bytes
// (a repeat or a non-member included, to reach EINVAL).
func order(a, b byte) []domgrp.DomID {
	o := []domgrp.DomID{domgrp.DomID(a % runDoms), domgrp.DomID(b>>4) % runDoms}
	return o[:a>>6%3]
}

func (x *runner) queries(g domgrp.GroupID, n int) (name, got, want string) {
	in, err := x.tab.GetInfo(x.r, g)
	min, merr := x.m.info(g)
	if n == 3 { // by name instead
		nm := names[g%domgrp.GroupID(len(names))]
		in, err = x.tab.GetInfoByName(x.r, nm)
		min, merr = x.m.byName(nm)
	}
	buf := make([]domgrp.GroupID, n)
	k, next, lerr := x.tab.List(x.r, g, buf)
	mids, mnext, mlerr := x.m.list(g, n)
	got = fmt.Sprintf("%+v %v | %v %d %v", in, err, buf[:k], next, lerr)
	want = fmt.Sprintf("%+v %v | %v %d %v", min, merr, mids, mnext, mlerr)
	return fmt.Sprintf("info+list(%d,%d)", g, n), got, want
}

func res(n int, err error) string { return fmt.Sprintf("%d %v", n, err) }

// compare checks the invariants and that the table's snapshot and the fakes'
// counts equal the model's.
func (x *runner) compare() error {
	x.r.Lock()
	defer x.r.Unlock()
	s := x.tab.Load(x.r)
	if err := checkInvariants(s); err != nil {
		return err
	}
	for id := range domgrp.GroupID(runGroups) {
		if err := x.compareGroup(s, id); err != nil {
			return err
		}
	}
	for id, md := range x.m.doms {
		d, _ := s.Domain(id)
		if d.Gang != md.gang || x.fakes[id].Count() != md.count || x.fakes[id].BadWaits() != 0 {
			return fmt.Errorf("dom%d: gang %v count %d badwaits %d, model gang %v count %d",
				id, d.Gang, x.fakes[id].Count(), x.fakes[id].BadWaits(), md.gang, md.count)
		}
	}
	if s.NumDomains() != len(x.m.doms) {
		return fmt.Errorf("%d domains, model %d", s.NumDomains(), len(x.m.doms))
	}
	return nil
}

func (x *runner) compareGroup(s *domgrp.Snapshot, id domgrp.GroupID) error {
	g, mg := s.Group(id), x.m.groups[id]
	if (g == nil) != (mg == nil) {
		return fmt.Errorf("group %d exists: %v, model %v", id, g != nil, mg != nil)
	}
	if g == nil {
		return nil
	}
	if got := g.AppendMembers(nil); !slices.Equal(got, mg.members) || int(g.Pauses()) != mg.pauses {
		return fmt.Errorf("group %d: members %v pauses %d, model %v pauses %d",
			id, got, g.Pauses(), mg.members, mg.pauses)
	}
	return nil
}
