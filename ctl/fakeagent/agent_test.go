package fakeagent

import (
	"context"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"grove/ctl/proto"
	"grove/errno"
)

func client(t *testing.T, a *Agent) *proto.Client {
	near, far := net.Pipe()
	go a.Serve(far)
	c := proto.NewClient(near, "fake", time.Second)
	t.Cleanup(func() { c.Close() })
	return c
}

// The model follows docs/groups.md: joining a paused group takes its
// pauses, leaving releases exactly them, dom0 is never paused by a group.
func TestGroupPauseModel(t *testing.T) {
	a := New()
	a.AddDomain(1, "a", 64)
	a.AddDomain(2, "b", 64)
	c := client(t, a)
	ctx := context.Background()
	steps := []struct {
		op   string
		args any
		want error
	}{
		{proto.OpGroupCreate, proto.GroupArgs{Group: 2}, nil},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 2, Domain: 1}, nil},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 2, Domain: 0}, nil},
		{proto.OpPause, proto.DomainArgs{Domain: 1}, nil},
		{proto.OpGroupPause, proto.GroupArgs{Group: 2}, nil},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 2, Domain: 2}, nil},
		{proto.OpGroupLeave, proto.DomainArgs{Domain: 2}, nil},
		{proto.OpGroupDestroy, proto.GroupArgs{Group: 2}, errno.EBUSY},
		{proto.OpGroupUnpause, proto.GroupArgs{Group: 2}, nil},
		{proto.OpGroupUnpause, proto.GroupArgs{Group: 2}, errno.EINVAL},
		{proto.OpGroupPause, proto.GroupArgs{Group: 0}, errno.EPERM},
		{proto.OpGroupInfo, proto.GroupArgs{Group: 9}, errno.ESRCH},
		{proto.OpGroupList, proto.ListArgs{}, errno.EINVAL},
		{"reboot", nil, errno.ENOSYS},
	}
	for _, s := range steps {
		if err := c.Call(ctx, s.op, s.args, nil); !errors.Is(err, s.want) && !(err == nil && s.want == nil) {
			t.Fatalf("%s %+v: %v, want %v", s.op, s.args, err, s.want)
		}
	}
	wantCounts := map[int]int{0: 0, 1: 1, 2: 0} // d1 keeps its own pause
	for id, want := range wantCounts {
		if d, _, _ := a.Domain(id); d.PauseCount != want {
			t.Fatalf("domain %d: pause count %d, want %d", id, d.PauseCount, want)
		}
	}
}

// Names and ordered pauses follow domgrp: unique names, "null" taken, info
// by name with each member described; an order naming a non-member is
// EINVAL; an ordered pause is one group pause.
func TestNamesAndOrder(t *testing.T) {
	a := New()
	for id, name := range []string{"", "a", "b", "c"} {
		if id > 0 {
			a.AddDomain(id, name, 64)
		}
	}
	c := client(t, a)
	ctx := context.Background()
	for _, s := range []struct {
		op   string
		args any
		want error
	}{
		{proto.OpGroupCreate, proto.GroupArgs{Group: 2, Name: "web"}, nil},
		{proto.OpGroupCreate, proto.GroupArgs{Name: "web"}, errno.EEXIST},
		{proto.OpGroupCreate, proto.GroupArgs{Name: "null"}, errno.EEXIST},
		{proto.OpGroupCreate, proto.GroupArgs{Name: "Web"}, errno.EINVAL},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 2, Domain: 1}, nil},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 2, Domain: 2}, nil},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 2, Domain: 0}, nil},
		{proto.OpGroupGang, proto.GangArgs{Domain: 2, Gang: true}, nil},
		{proto.OpGroupPause, proto.PauseArgs{Group: 2, Order: []int{3}}, errno.EINVAL},
		{proto.OpGroupPause, proto.PauseArgs{Group: 2, Order: []int{2, 2}}, errno.EINVAL},
		{proto.OpGroupPause, proto.PauseArgs{Group: 2, Order: []int{2}}, nil},
		{proto.OpGroupInfo, proto.GroupArgs{Name: "nosuch"}, errno.ESRCH},
	} {
		if err := c.Call(ctx, s.op, s.args, nil); !errors.Is(err, s.want) && !(err == nil && s.want == nil) {
			t.Fatalf("%s %+v: %v, want %v", s.op, s.args, err, s.want)
		}
	}
	var info proto.GroupInfo
	if err := c.Call(ctx, proto.OpGroupInfo, proto.GroupArgs{Name: "web"}, &info); err != nil {
		t.Fatal(err)
	}
	want := []proto.MemberInfo{{ID: 1, Name: "a", State: "paused", Flags: []string{}},
		{ID: 2, Name: "b", State: "paused", Flags: []string{proto.MemberGang}},
		{ID: 0, Name: "dom0", State: "running", Flags: []string{proto.MemberControl}}}
	if info.ID != 2 || info.Name != "web" || info.PauseCount != 1 || !reflect.DeepEqual(info.MemberInfo, want) {
		t.Fatalf("info %+v", info)
	}
	var null proto.GroupInfo
	if err := c.Call(ctx, proto.OpGroupInfo, proto.GroupArgs{Name: "null"}, &null); err != nil || null.ID != 0 {
		t.Fatalf("null group: %+v %v", null, err)
	}
}
