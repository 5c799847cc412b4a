package domgrp_test

import (
	"fmt"
	"slices"
	"testing"

	"grove/domgrp"
	"grove/domgrp/domgrptest"
	"grove/errno"
	"grove/rcu"
)

func TestPauseOverflowIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	for range domgrptest.ControllerLimit { // dom3, last in group 1, is full
		must(t, f.doms[3].Pause())
	}
	before := f.counts()
	if n, err := f.tab.Pause(f.r, 0, 1); err != errno.EOVERFLOW || n != 0 {
		t.Fatalf("Pause = %d, %v; want 0, EOVERFLOW", n, err)
	}
	if got := f.counts(); !slices.Equal(got, before) {
		t.Fatalf("counts %v after failed pause, want %v", got, before)
	}
	if in, _ := f.tab.GetInfo(f.r, 1); in.Pauses != 0 {
		t.Fatalf("group count %d after failed pause", in.Pauses)
	}
}

func TestGroupPauseCountIsCapped(t *testing.T) {
	f := newFixture(t)
	for i := range domgrp.MaxGroupPauses {
		if _, err := f.tab.Pause(f.r, 0, 2); err != nil {
			t.Fatalf("pause %d: %v", i+1, err)
		}
	}
	if _, err := f.tab.Pause(f.r, 0, 2); err != errno.EOVERFLOW {
		t.Fatalf("pause 256 = %v, want EOVERFLOW", err)
	}
}

func TestCallerAndDom0AreSkipped(t *testing.T) {
	f := newFixture(t)
	must(t, f.tab.Join(0, 1))
	if n, err := f.tab.Pause(f.r, 2, 1); n != 2 || err != nil {
		t.Fatalf("Pause by member dom2 = %d, %v; want 2 (dom1, dom3)", n, err)
	}
	if got := f.counts()[:4]; !slices.Equal(got, []int{0, 1, 0, 1}) {
		t.Fatalf("counts of dom0-3 = %v, want [0 1 0 1]", got)
	}
	if n, err := f.tab.Unpause(f.r, 1); n != 2 || err != nil {
		t.Fatalf("Unpause = %d, %v; want 2", n, err)
	}
	if got := f.counts()[:4]; !slices.Equal(got, []int{0, 0, 0, 0}) {
		t.Fatalf("counts after unpause = %v", got)
	}
}

// A nested pause by dom0 over a member's own pause: releasing both, in
// either order, leaves nobody paused.
func TestNestedPausesRelease(t *testing.T) {
	for _, order := range []string{"member-first", "dom0-first"} {
		t.Run(order, func(t *testing.T) {
			f := newFixture(t)
			mustPause(t, f, 2, 1) // dom2 pauses its own group: dom1, dom3
			mustPause(t, f, 0, 1) // dom0 pauses it again: dom1, dom2, dom3
			for range 2 {
				if _, err := f.tab.Unpause(f.r, 1); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.counts()[:4]; !slices.Equal(got, []int{0, 0, 0, 0}) {
				t.Fatalf("counts = %v after both unpauses, want all 0", got)
			}
		})
	}
}

func mustPause(t *testing.T, f *fixture, caller domgrp.DomID, g domgrp.GroupID) {
	t.Helper()
	if _, err := f.tab.Pause(f.r, caller, g); err != nil {
		t.Fatal(err)
	}
}

func TestJoinAndLeavePausedGroup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps func(t *testing.T, f *fixture) error
		count int // dom5's controller count afterwards
	}{
		{"join-paused", func(t *testing.T, f *fixture) error { return f.tab.Join(5, 3) }, 1},
		{"join-then-leave", func(t *testing.T, f *fixture) error { must(t, f.tab.Join(5, 3)); return f.tab.Leave(5) }, 0},
		{"join-then-unpause", func(t *testing.T, f *fixture) error {
			must(t, f.tab.Join(5, 3))
			_, err := f.tab.Unpause(f.r, 3)
			return err
		}, 0},
		{"move-paused-to-paused", func(t *testing.T, f *fixture) error {
			mustPause(t, f, 0, 1)
			mustPause(t, f, 0, 1)
			must(t, f.tab.Join(5, 3))
			return f.tab.Join(5, 1)
		}, 2},
		{"move-paused-to-unpaused", func(t *testing.T, f *fixture) error { must(t, f.tab.Join(5, 3)); return f.tab.Join(5, 2) }, 0},
		{"join-overflow", func(t *testing.T, f *fixture) error {
			for range domgrptest.ControllerLimit {
				must(t, f.doms[5].Pause())
			}
			if err := f.tab.Join(5, 3); err != errno.EOVERFLOW {
				return fmt.Errorf("join = %v, want EOVERFLOW", err)
			}
			if g := f.members(3); !slices.Equal(g, []domgrp.DomID{4}) {
				return fmt.Errorf("group 3 = %v after failed join", g)
			}
			return nil
		}, domgrptest.ControllerLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			must(t, tc.steps(t, f))
			if got := f.doms[5].Count(); got != tc.count || f.doms[5].BadWaits() != 0 {
				t.Fatalf("dom5 count %d (bad waits %d), want %d", got, f.doms[5].BadWaits(), tc.count)
			}
		})
	}
}

func TestRemovePausedMember(t *testing.T) {
	f := newFixture(t)
	must(t, f.tab.RemoveDomain(4))
	if got := f.doms[4].Count(); got != 1 {
		t.Fatalf("removed dom4 count %d, want 1: a dying domain is not unpaused", got)
	}
	if n, err := f.tab.Unpause(f.r, 3); n != 0 || err != nil {
		t.Fatalf("Unpause of emptied group = %d, %v; want 0, nil", n, err)
	}
	must(t, f.tab.Destroy(3))
}

func TestCreateUntilFull(t *testing.T) {
	tab := domgrp.New(rcu.New(1), 0)
	for want := 1; want < domgrp.DefaultMaxGroups; want++ {
		if id, err := tab.Create(0); err != nil || int(id) != want {
			t.Fatalf("Create(0) = %d, %v; want %d", id, err, want)
		}
	}
	if _, err := tab.Create(0); err != errno.ENOSPC {
		t.Fatalf("Create on full table = %v, want ENOSPC", err)
	}
	must(t, tab.Destroy(77))
	if id, err := tab.Create(0); id != 77 || err != nil {
		t.Fatalf("Create after freeing 77 = %d, %v", id, err)
	}
}

func TestListPages(t *testing.T) {
	f := newFixture(t) // groups 0 1 2 3
	_, err := f.tab.Create(7)
	must(t, err)
	for _, tc := range []struct {
		start domgrp.GroupID
		max   int
		ids   []domgrp.GroupID
		next  domgrp.GroupID
	}{
		{0, 2, []domgrp.GroupID{0, 1}, 2},
		{2, 2, []domgrp.GroupID{2, 3}, 7},
		{7, 2, []domgrp.GroupID{7}, 0},
		{4, 8, []domgrp.GroupID{7}, 0},
		{0, 5, []domgrp.GroupID{0, 1, 2, 3, 7}, 0},
		{8, 1, nil, 0},
	} {
		t.Run(fmt.Sprintf("start=%d,max=%d", tc.start, tc.max), func(t *testing.T) {
			buf := make([]domgrp.GroupID, tc.max)
			n, next, err := f.tab.List(f.r, tc.start, buf)
			if err != nil || !slices.Equal(buf[:n], tc.ids) || next != tc.next {
				t.Fatalf("= %v next %d %v; want %v next %d", buf[:n], next, err, tc.ids, tc.next)
			}
		})
	}
}

func TestGetInfo(t *testing.T) {
	f := newFixture(t)
	for id := domgrp.DomID(10); id < 30; id++ {
		must(t, f.tab.AddDomain(domgrptest.New(id)))
		must(t, f.tab.Join(id, 3))
	}
	in, err := f.tab.GetInfo(f.r, 3)
	must(t, err)
	want := domgrp.Info{ID: 3, Flags: domgrp.FlagPaused, Pauses: 1, NMembers: 21}
	want.Members[0] = 4
	for i := 1; i < domgrp.InfoMembers; i++ {
		want.Members[i] = domgrp.DomID(9 + i)
	}
	if in != want {
		t.Fatalf("GetInfo(3) = %+v\nwant %+v", in, want)
	}
	if in, _ := f.tab.GetInfo(f.r, 0); in.Flags != domgrp.FlagNull || in.NMembers != 2 {
		t.Fatalf("GetInfo(0) = %+v", in)
	}
}

func TestGangFlagInSnapshot(t *testing.T) {
	f := newFixture(t)
	must(t, f.tab.SetGang(2, true))
	must(t, f.tab.Join(2, 3)) // the flag belongs to the domain and moves with it
	f.r.Lock()
	defer f.r.Unlock()
	if d, _ := f.tab.Load(f.r).Domain(2); !d.Gang || d.Group != 3 {
		t.Fatalf("dom2 = %+v, want gang in group 3", d)
	}
}
