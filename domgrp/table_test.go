package domgrp_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"grove/domgrp"
	"grove/domgrp/domgrptest"
	"grove/errno"
	"grove/rcu"
)

// fixture: doms 0-5 registered; group 1 = [1 2 3]; group 2 empty;
// group 3 = [4], paused once by dom0; dom5 and dom0 ungrouped; 8 groups.
type fixture struct {
	tab  *domgrp.Table
	r    *rcu.Reader
	doms []*domgrptest.Domain
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rc := rcu.New(2)
	f := &fixture{tab: domgrp.New(rc, 8), r: rc.Reader(0)}
	for id := range domgrp.DomID(6) {
		f.doms = append(f.doms, domgrptest.New(id))
		must(t, f.tab.AddDomain(f.doms[id]))
	}
	for _, g := range []domgrp.GroupID{1, 2, 3} {
		_, err := f.tab.Create(g)
		must(t, err)
	}
	for _, d := range []domgrp.DomID{1, 2, 3} {
		must(t, f.tab.Join(d, 1))
	}
	must(t, f.tab.Join(4, 3))
	_, err := f.tab.Pause(f.r, 0, 3)
	must(t, err)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) members(g domgrp.GroupID) []domgrp.DomID {
	f.r.Lock()
	defer f.r.Unlock()
	if grp := f.tab.Load(f.r).Group(g); grp != nil {
		return grp.AppendMembers(nil)
	}
	return nil
}

func (f *fixture) counts() []int {
	var c []int
	for _, d := range f.doms {
		c = append(c, d.Count())
	}
	return c
}

type opCase struct {
	name string
	run  func(f *fixture) (int, error)
	n    int
	err  error
}

func errOnly(name string, err error, run func(f *fixture) error) opCase {
	return opCase{name: name, err: err, run: func(f *fixture) (int, error) { return 0, run(f) }}
}

func create(want domgrp.GroupID, got int, err error) opCase {
	return opCase{fmt.Sprintf("create/want=%d", want), func(f *fixture) (int, error) {
		id, err := f.tab.Create(want)
		return int(id), err
	}, got, err}
}

func join(d domgrp.DomID, g domgrp.GroupID, err error) opCase {
	return errOnly(fmt.Sprintf("join/dom=%d,group=%d", d, g), err, func(f *fixture) error { return f.tab.Join(d, g) })
}

func pause(caller domgrp.DomID, g domgrp.GroupID, n int, err error) opCase {
	return opCase{fmt.Sprintf("pause/caller=%d,group=%d", caller, g),
		func(f *fixture) (int, error) { return f.tab.Pause(f.r, caller, g) }, n, err}
}

func unpause(g domgrp.GroupID, n int, err error) opCase {
	return opCase{fmt.Sprintf("unpause/group=%d", g),
		func(f *fixture) (int, error) { return f.tab.Unpause(f.r, g) }, n, err}
}

func destroy(g domgrp.GroupID, err error) opCase {
	return errOnly(fmt.Sprintf("destroy/group=%d", g), err, func(f *fixture) error { return f.tab.Destroy(g) })
}

func TestOperations(t *testing.T) {
	cases := []opCase{
		create(0, 4, nil), create(5, 5, nil), create(2, 0, errno.EEXIST), create(8, 0, errno.EINVAL),
		destroy(0, errno.EPERM), destroy(1, errno.EBUSY), destroy(2, nil), destroy(5, errno.ESRCH),
		destroy(9, errno.ESRCH), destroy(3, errno.EBUSY),
		join(9, 1, errno.ESRCH), join(1, 5, errno.ESRCH), join(1, 9, errno.ESRCH), join(5, 1, nil),
		join(1, 1, nil), join(1, 2, nil), join(5, 3, nil), join(1, 0, nil),
		errOnly("leave/dom=9", errno.ESRCH, func(f *fixture) error { return f.tab.Leave(9) }),
		errOnly("leave/dom=2", nil, func(f *fixture) error { return f.tab.Leave(2) }),
		errOnly("leave/dom=5", nil, func(f *fixture) error { return f.tab.Leave(5) }),
		pause(0, 0, 0, errno.EPERM), pause(0, 5, 0, errno.ESRCH), pause(0, 9, 0, errno.ESRCH),
		pause(0, 1, 3, nil), pause(2, 1, 2, nil), pause(0, 2, 0, nil), pause(0, 3, 1, nil),
		unpause(0, 0, errno.EPERM), unpause(5, 0, errno.ESRCH), unpause(1, 0, errno.EINVAL),
		unpause(3, 1, nil),
		errOnly("getinfo/group=5", errno.ESRCH, func(f *fixture) error { _, err := f.tab.GetInfo(f.r, 5); return err }),
		errOnly("list/buf=0", errno.EINVAL, func(f *fixture) error { _, _, err := f.tab.List(f.r, 0, nil); return err }),
		errOnly("gang/dom=9", errno.ESRCH, func(f *fixture) error { return f.tab.SetGang(9, true) }),
		errOnly("gang/dom=1", nil, func(f *fixture) error { return f.tab.SetGang(1, true) }),
		errOnly("add/dom=1", errno.EEXIST, func(f *fixture) error { return f.tab.AddDomain(domgrptest.New(1)) }),
		errOnly("add/nil", errno.EINVAL, func(f *fixture) error { return f.tab.AddDomain(nil) }),
		errOnly("add/dom=9", nil, func(f *fixture) error { return f.tab.AddDomain(domgrptest.New(9)) }),
		errOnly("remove/dom=9", errno.ESRCH, func(f *fixture) error { return f.tab.RemoveDomain(9) }),
		errOnly("remove/dom=2", nil, func(f *fixture) error { return f.tab.RemoveDomain(2) }),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			n, err := tc.run(f)
			if n != tc.n || err != tc.err {
				t.Fatalf("= %d, %v; want %d, %v", n, err, tc.n, tc.err)
			}
			f.r.Lock()
			defer f.r.Unlock()
			if err := checkInvariants(f.tab.Load(f.r)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFailedOperationsChangeNothing(t *testing.T) {
	f := newFixture(t)
	before, counts := f.snapshotString(), f.counts()
	for _, op := range []func() error{
		func() error { _, err := f.tab.Create(2); return err },
		func() error { return f.tab.Destroy(1) },
		func() error { return f.tab.Join(1, 5) },
		func() error { _, err := f.tab.Pause(f.r, 0, 0); return err },
		func() error { _, err := f.tab.Unpause(f.r, 1); return err },
	} {
		if op() == nil {
			t.Fatal("operation unexpectedly succeeded")
		}
	}
	if after := f.snapshotString(); after != before || !slices.Equal(f.counts(), counts) {
		t.Fatalf("failed operations changed state:\n%s\n%v\nwant\n%s\n%v", after, f.counts(), before, counts)
	}
}

func (f *fixture) snapshotString() string {
	s := ""
	for g := range domgrp.GroupID(8) {
		in, err := f.tab.GetInfo(f.r, g)
		s += fmt.Sprintf("%v %+v\n", err, in)
	}
	return s
}

func TestJoinOrderIsFIFO(t *testing.T) {
	f := newFixture(t)
	must(t, f.tab.Join(5, 1))
	must(t, f.tab.Join(1, 2))
	must(t, f.tab.Join(1, 1)) // rejoining puts it at the end
	if got, want := f.members(1), []domgrp.DomID{2, 3, 5, 1}; !slices.Equal(got, want) {
		t.Fatalf("group 1 = %v, want %v", got, want)
	}
	if got, want := f.members(0), []domgrp.DomID{0}; !slices.Equal(got, want) {
		t.Fatalf("null group = %v, want %v", got, want)
	}
}

func TestErrorsAreErrnos(t *testing.T) {
	f := newFixture(t)
	err := fmt.Errorf("group 5: %w", f.tab.Destroy(5))
	var e errno.Errno
	if !errors.Is(err, errno.ESRCH) || !errors.As(err, &e) || e != 3 {
		t.Fatalf("%v: not ESRCH (3) through errors.Is/As", err)
	}
	if got := err.Error(); got != "group 5: no such domain or group (ESRCH)" {
		t.Fatalf("message %q", got)
	}
}

func TestSetPolicy(t *testing.T) {
	f := newFixture(t)
	const gid domgrp.GroupID = 1
	for _, tc := range []struct {
		name string
		gid  domgrp.GroupID
		p    domgrp.Policy
		skew uint64
		want error
	}{
		{"null-group", domgrp.NullGroup, domgrp.PolicyGang, 0, errno.EPERM},
		{"unknown-group", 7, domgrp.PolicyGang, 0, errno.ESRCH},
		{"bad-policy", gid, 3, 0, errno.EINVAL},
		{"relaxed-no-bound", gid, domgrp.PolicyRelaxed, 0, errno.EINVAL},
		{"relaxed-absurd-bound", gid, domgrp.PolicyRelaxed, domgrp.MaxSkewNS + 1, errno.EINVAL},
		{"gang-with-bound", gid, domgrp.PolicyGang, domgrp.MinSkewNS, errno.EINVAL},
		{"gang", gid, domgrp.PolicyGang, 0, nil},
		{"relaxed", gid, domgrp.PolicyRelaxed, 30_000_000, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.tab.SetPolicy(tc.gid, tc.p, tc.skew); !errors.Is(err, tc.want) && err != tc.want {
				t.Fatalf("SetPolicy = %v, want %v", err, tc.want)
			}
		})
	}
	must(t, f.tab.SetGang(2, true))
	must(t, f.tab.Join(5, gid)) // a join keeps the policy
	in, err := f.tab.GetInfo(f.r, gid)
	if err != nil || in.Policy != domgrp.PolicyRelaxed || in.SkewNS != 30_000_000 {
		t.Fatalf("GetInfo = %+v, %v", in, err)
	}
	if want := [domgrp.InfoMembers]bool{1: true}; in.Gang != want {
		t.Fatalf("opt-ins %v, want member 1 (dom2) only", in.Gang)
	}
}
