package domgrp_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"grove/domgrp"
	"grove/domgrp/domgrptest"
	"grove/errno"
	"grove/rcu"
)

// logged is a table with dom0..dom5 whose fakes share one log, and group
// 1 = [1 2 3 4] in join order.
func logged(t *testing.T) (*domgrp.Table, *rcu.Reader, []*domgrptest.Domain, *domgrptest.Log) {
	t.Helper()
	rc := rcu.New(1)
	tab, log := domgrp.New(rc, 8), &domgrptest.Log{}
	var doms []*domgrptest.Domain
	for id := range domgrp.DomID(6) {
		doms = append(doms, domgrptest.New(id).WithLog(log))
		must(t, tab.AddDomain(doms[id]))
	}
	_, err := tab.CreateNamed(1, "web")
	must(t, err)
	for _, d := range []domgrp.DomID{1, 2, 3, 4} {
		must(t, tab.Join(d, 1))
	}
	return tab, rc.Reader(0), doms, log
}

func ids(v ...domgrp.DomID) []domgrp.DomID { return v }

func ops(verb string, v ...int) []string {
	var out []string
	for _, id := range v {
		out = append(out, fmt.Sprintf("%s %d", verb, id))
	}
	return out
}

// A pause walks the order, then the members it does not name in join
// order; an unpause without an order walks the recorded one backwards, and
// one with an order walks that one backwards.
func TestPauseOrder(t *testing.T) {
	for _, tc := range []struct {
		name           string
		pause, unpause []domgrp.DomID
		caller         domgrp.DomID
		paused, undone []string
	}{
		{"join-order", nil, nil, 0, ops("pause", 1, 2, 3, 4), ops("unpause", 4, 3, 2, 1)},
		{"full-order", ids(3, 1, 4, 2), nil, 0, ops("pause", 3, 1, 4, 2), ops("unpause", 2, 4, 1, 3)},
		{"partial-order", ids(4, 2), nil, 0, ops("pause", 4, 2, 1, 3), ops("unpause", 3, 1, 2, 4)},
		{"explicit-unpause-order", ids(4, 2), ids(1, 2), 0, ops("pause", 4, 2, 1, 3), ops("unpause", 4, 3, 2, 1)},
		{"caller-skipped", ids(3, 2, 1), nil, 2, ops("pause", 3, 1, 4), ops("unpause", 4, 1, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, r, doms, log := logged(t)
			n, err := tab.PauseOrdered(r, tc.caller, 1, tc.pause)
			if err != nil || n != len(tc.paused) {
				t.Fatalf("PauseOrdered = %d, %v", n, err)
			}
			if got := log.Ops(); !slices.Equal(got, tc.paused) {
				t.Fatalf("paused %q, want %q", got, tc.paused)
			}
			if in, _ := tab.GetInfo(r, 1); in.Pauses != 1 || in.Flags != domgrp.FlagPaused {
				t.Fatalf("an ordered pause is one group pause: %+v", in)
			}
			if n, err := tab.UnpauseOrdered(r, 1, tc.unpause); err != nil || n != len(tc.undone) {
				t.Fatalf("UnpauseOrdered = %d, %v", n, err)
			}
			if got := log.Ops(); !slices.Equal(got, tc.undone) {
				t.Fatalf("unpaused %q, want %q", got, tc.undone)
			}
			for _, d := range doms {
				if d.Count() != 0 || d.BadWaits() != 0 {
					t.Fatalf("dom%d count %d, bad waits %d", d.ID(), d.Count(), d.BadWaits())
				}
			}
		})
	}
}

// All or nothing in order: the member that fails stops the walk and the
// ones paused before it are unpaused newest first.
func TestOrderedPauseRollsBackInReverse(t *testing.T) {
	tab, r, doms, log := logged(t)
	for range domgrptest.ControllerLimit {
		must(t, doms[1].Pause())
	}
	log.Ops()
	if n, err := tab.PauseOrdered(r, 0, 1, ids(4, 2, 1, 3)); err != errno.EOVERFLOW || n != 0 {
		t.Fatalf("PauseOrdered = %d, %v; want 0, EOVERFLOW", n, err)
	}
	want := append(ops("pause", 4, 2), ops("unpause", 2, 4)...)
	if got := log.Ops(); !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if in, _ := tab.GetInfo(r, 1); in.Pauses != 0 {
		t.Fatalf("group count %d after a failed pause", in.Pauses)
	}
	for _, d := range doms[2:] {
		if d.Count() != 0 {
			t.Fatalf("dom%d left with count %d", d.ID(), d.Count())
		}
	}
	// The failed pause recorded no order: a later plain pause and unpause
	// use join order.
	must(t, doms[1].Unpause())
	log.Ops()
	mustPauseN(t, tab, r, nil, 4)
	if _, err := tab.Unpause(r, 1); err != nil {
		t.Fatal(err)
	}
	if got := log.Ops(); !slices.Equal(got, append(ops("pause", 1, 2, 3, 4), ops("unpause", 4, 3, 2, 1)...)) {
		t.Fatalf("calls %q", got)
	}
}

func mustPauseN(t *testing.T, tab *domgrp.Table, r *rcu.Reader, order []domgrp.DomID, want int) {
	t.Helper()
	if n, err := tab.PauseOrdered(r, 0, 1, order); err != nil || n != want {
		t.Fatalf("PauseOrdered(%v) = %d, %v; want %d", order, n, err, want)
	}
}

// An order naming a non-member or a member twice is refused before any
// pause, by pause and by unpause.
func TestBadOrders(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order []domgrp.DomID
	}{{"non-member", ids(1, 5)}, {"unknown-domain", ids(99)}, {"twice", ids(2, 3, 2)}} {
		t.Run(tc.name, func(t *testing.T) {
			tab, r, doms, log := logged(t)
			if _, err := tab.PauseOrdered(r, 0, 1, tc.order); err != errno.EINVAL {
				t.Fatalf("PauseOrdered = %v, want EINVAL", err)
			}
			if got := log.Ops(); len(got) != 0 {
				t.Fatalf("a refused order paused: %q", got)
			}
			mustPauseN(t, tab, r, nil, 4)
			if _, err := tab.UnpauseOrdered(r, 1, tc.order); err != errno.EINVAL {
				t.Fatalf("UnpauseOrdered = %v, want EINVAL", err)
			}
			if in, _ := tab.GetInfo(r, 1); in.Pauses != 1 || doms[1].Count() != 1 {
				t.Fatalf("a refused unpause changed the group: %+v", in)
			}
		})
	}
}

// The order recorded by the outermost pause outlives nested pauses and
// members leaving; a member that joined since is released first (it was
// paused last, as an unnamed member).
func TestRecordedOrder(t *testing.T) {
	tab, r, _, log := logged(t)
	mustPauseN(t, tab, r, ids(3, 1), 4)
	if n, err := tab.PauseOrdered(r, 0, 1, ids(1, 2, 3, 4)); err != nil || n != 4 {
		t.Fatalf("nested pause = %d, %v", n, err)
	}
	must(t, tab.Leave(1))
	must(t, tab.Join(5, 1))
	log.Ops()
	for range 2 {
		if _, err := tab.Unpause(r, 1); err != nil {
			t.Fatal(err)
		}
	}
	// dom1 left (its pauses went with it); dom5 joined the paused group.
	want := ops("unpause", 5, 4, 2, 3, 5, 4, 2, 3)
	if got := log.Ops(); !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
}

func TestGroupNames(t *testing.T) {
	tab, r, _, _ := logged(t) // group 1 is "web"
	long := strings.Repeat("x", domgrp.MaxNameLen)
	for _, tc := range []struct {
		name string
		want error
	}{
		{"db", nil}, {long, nil}, {"web", errno.EEXIST}, {domgrp.NullName, errno.EEXIST},
		{long + "x", errno.EINVAL}, {"Web", errno.EINVAL}, {"a b", errno.EINVAL}, {"a\x00", errno.EINVAL},
	} {
		t.Run(fmt.Sprintf("%q", tc.name), func(t *testing.T) {
			if _, err := tab.CreateNamed(0, tc.name); err != tc.want {
				t.Fatalf("CreateNamed(%q) = %v, want %v", tc.name, err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		id   domgrp.GroupID
		err  error
	}{{"web", 1, nil}, {"db", 2, nil}, {domgrp.NullName, 0, nil}, {"mail", 0, errno.ESRCH}, {"", 0, errno.ESRCH}} {
		in, err := tab.GetInfoByName(r, tc.name)
		if err != tc.err || in.ID != tc.id || err == nil && in.Name != tc.name {
			t.Errorf("GetInfoByName(%q) = %d %q, %v; want %d, %v", tc.name, in.ID, in.Name, err, tc.id, tc.err)
		}
	}
	must(t, tab.Destroy(2))
	if id, err := tab.CreateNamed(5, "db"); id != 5 || err != nil {
		t.Fatalf("a destroyed group's name is free again: %d, %v", id, err)
	}
	if id, err := tab.Create(0); err != nil {
		t.Fatalf("unnamed groups never clash: %d, %v", id, err)
	}
}
