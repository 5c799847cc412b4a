package fakeagent

import (
	"context"
	"errors"
	"net"
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
