package qemu

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"grove/ctl/proto"
	"grove/errno"
)

// dialAgent waits for the agent (and the lines in also, printed in any
// order around it) and connects to it through QEMU's COM2 socket.
func dialAgent(t testing.TB, r *Run, sock string, also ...string) *proto.Client {
	t.Helper()
	r.ExpectAll(60*time.Second, append([]string{"(d0) agent: control domain up"}, also...)...)
	var c *proto.Client
	var err error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if c, err = proto.Dial(sock, 10*time.Second); err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
	}
	t.Fatalf("dialing the agent at %s: %v", sock, err)
	return nil
}

// The host controls groups through the dom0 agent over the serial socket:
// the same path grovectl uses.
func TestHostControlOverSerial(t *testing.T) {
	im := Build(t)
	hb := im.Heartbeat
	sock := filepath.Join(t.TempDir(), "grove.sock")
	r := Start(t, "control", Boot{Kernel: im.Grove, Control: sock, Initrd: im.Agent + " name=dom0 privileged," +
		hb + " name=web1," + hb + " name=web2," + hb + " name=other"})
	c := dialAgent(t, r, sock, "grove: created d3 (other)")
	ctx := context.Background()
	events, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatalf("events.subscribe: %v", err)
	}
	var list proto.DomainList
	if err := c.Call(ctx, proto.OpList, nil, &list); err != nil || len(list.Domains) != 4 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	var gid proto.GroupID
	if err := c.Call(ctx, proto.OpGroupCreate, proto.GroupArgs{}, &gid); err != nil {
		t.Fatal(err)
	}
	for _, d := range []int{1, 2} {
		if err := c.Call(ctx, proto.OpGroupJoin, proto.JoinArgs{Group: gid.Group, Domain: d}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var n proto.Count
	if err := c.Call(ctx, proto.OpGroupPause, proto.GroupArgs{Group: gid.Group}, &n); err != nil || n.Count != 2 {
		t.Fatalf("group.pause: %+v, %v", n, err)
	}
	settle()
	mark := r.Mark()
	time.Sleep(1200 * time.Millisecond)
	during := r.Since(mark)
	if strings.Contains(during, "(d1) beat") || strings.Contains(during, "(d2) beat") || !strings.Contains(during, "(d3) beat") {
		t.Fatalf("during the group pause:\n%s", during)
	}
	if err := c.Call(ctx, proto.OpGroupUnpause, proto.GroupArgs{Group: gid.Group}, &n); err != nil || n.Count != 2 {
		t.Fatalf("group.unpause: %+v, %v", n, err)
	}
	r.ExpectAll(10*time.Second, beat(1, lastBeat(r.All(), 1)+2), beat(2, lastBeat(r.All(), 2)+2))
	for _, tc := range []struct {
		op   string
		args any
		want errno.Errno
	}{
		{proto.OpGroupPause, proto.GroupArgs{Group: 0}, errno.EPERM},
		{proto.OpGroupInfo, proto.GroupArgs{Group: 99}, errno.ESRCH},
		{proto.OpGroupDestroy, proto.GroupArgs{Group: gid.Group}, errno.EBUSY},
		{proto.OpGroupCreate, proto.GroupArgs{Group: gid.Group}, errno.EEXIST},
		{proto.OpPause, proto.DomainArgs{Domain: 77}, errno.ESRCH},
	} {
		if err := c.Call(ctx, tc.op, tc.args, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s %+v: %v, want %v", tc.op, tc.args, err, tc.want)
		}
	}
	// The pause and unpause above were reported as events.
	seen := map[string]bool{}
	for deadline := time.After(10 * time.Second); !seen["paused 1"] || !seen["unpaused 2"]; {
		select {
		case ev := <-events:
			seen[ev.Kind+" "+itoa(ev.Domain)] = true
		case <-deadline:
			t.Fatalf("events seen: %v", seen)
		}
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

func itoa(n int) string { return strconv.Itoa(n) }
