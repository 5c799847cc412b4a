package qemu

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grove/ctl/proto"
	"grove/errno"
)

// The interrupt-driven control channel (the agent's default, docs/grovectl.md):
// answers stay right request after request, and a burst of domain events
// reaches the host whole and in order.

// 1,000 requests back to back over one connection (grovectl's client
// library) through the shared-memory rings, then 200 over the serial line
// alone on a new connection, then 200 through the rings again (the agent
// switches each time): pause a domain, list, unpause it, ask for a group
// that does not exist; every answer is checked against what the request
// implies.
func TestControlBackToBack(t *testing.T) {
	im := Build(t)
	hb := im.Heartbeat
	sock := filepath.Join(t.TempDir(), "grove.sock")
	r := Start(t, "backtoback", Boot{Kernel: im.Grove, Control: sock, Timeout: 5 * time.Minute,
		Initrd: im.Agent + " name=dom0 privileged," + hb + " name=a," + hb + " name=b," + hb + " name=c"})
	c := dialAgent(t, r, sock, "grove: created d3 (c)", "(d0) agent: host channel: shared memory at")
	for _, step := range []struct {
		n      int
		serial bool
	}{{1000, false}, {200, true}, {200, false}} {
		if c == nil {
			dial, want := proto.Dial, "rings"
			if step.serial {
				dial, want = proto.DialSerial, "serial"
			}
			var err error
			if c, err = dial(sock, 10*time.Second); err != nil {
				t.Fatalf("dialing again: %v", err)
			}
			if c.Transport() != want {
				t.Fatalf("transport %s, want %s", c.Transport(), want)
			}
		}
		backToBack(t, c, step.n)
		c.Close()
		c = nil
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

func backToBack(t *testing.T, c *proto.Client, n int) {
	ctx := context.Background()
	names := []string{"dom0", "a", "b", "c"}
	t0 := time.Now()
	for i := 0; i < n; i += 4 {
		d := 1 + i/4%3
		if err := c.Call(ctx, proto.OpPause, proto.DomainArgs{Domain: d}, nil); err != nil {
			t.Fatalf("request %d: pause %d: %v", i, d, err)
		}
		var l proto.DomainList
		if err := c.Call(ctx, proto.OpList, nil, &l); err != nil {
			t.Fatalf("request %d: list: %v", i+1, err)
		}
		if err := checkList(l, names, d); err != nil {
			t.Fatalf("request %d: list with d%d paused: %v", i+1, d, err)
		}
		if err := c.Call(ctx, proto.OpUnpause, proto.DomainArgs{Domain: d}, nil); err != nil {
			t.Fatalf("request %d: unpause %d: %v", i+2, d, err)
		}
		g := 100 + i%50
		if err := c.Call(ctx, proto.OpGroupInfo, proto.GroupArgs{Group: g}, nil); !errors.Is(err, errno.ESRCH) {
			t.Fatalf("request %d: group.info %d: %v, want ESRCH", i+3, g, err)
		}
	}
	d := time.Since(t0)
	t.Logf("%d requests (%s) in %v (%v each)", n, c.Transport(), d.Round(time.Millisecond), (d / time.Duration(n)).Round(time.Microsecond))
}

// checkList: every domain by name, paused only d.
func checkList(l proto.DomainList, names []string, d int) error {
	if len(l.Domains) != len(names) {
		return fmt.Errorf("%d domains, want %d", len(l.Domains), len(names))
	}
	for i, info := range l.Domains {
		want := "running"
		if i == d {
			want = "paused"
		}
		if info.ID != i || info.Name != names[i] || info.State != want {
			return fmt.Errorf("domain %d: %+v, want d%d %s %s", i, info, i, names[i], want)
		}
	}
	return nil
}

// 200 domains in one group: one group pause queues 200 events at once
// (VIRQDomExc), and the host must receive all 200, in the group's order,
// with none lost (the agent would say "events lost"); the unpause likewise
// in reverse.
func TestControlEventBurst(t *testing.T) {
	const n = 200
	im := Build(t)
	sock := filepath.Join(t.TempDir(), "grove.sock")
	r := Start(t, "eventburst", Boot{Kernel: im.Grove, Control: sock, Mem: "1G", Timeout: 5 * time.Minute,
		Initrd: im.Agent + fmt.Sprintf(" name=dom0 privileged spawn=%d", n)})
	c := dialAgent(t, r, sock, fmt.Sprintf("(d0) agent: spawned %d idle domains", n))
	ctx := context.Background()
	var gid proto.GroupID
	must(t, c.Call(ctx, proto.OpGroupCreate, proto.GroupArgs{}, &gid))
	for d := 1; d <= n; d++ {
		must(t, c.Call(ctx, proto.OpGroupJoin, proto.JoinArgs{Group: gid.Group, Domain: d}, nil))
	}
	events, err := c.Subscribe(ctx)
	must(t, err)
	for _, step := range []struct {
		op, kind string
		first    int // domain of the first event; the rest follow one by one
		dir      int
	}{{proto.OpGroupPause, proto.EventPaused, 1, 1}, {proto.OpGroupUnpause, proto.EventUnpaused, n, -1}} {
		var cnt proto.Count
		t0 := time.Now()
		must(t, c.Call(ctx, step.op, proto.GroupArgs{Group: gid.Group}, &cnt))
		if cnt.Count != n {
			t.Fatalf("%s acted on %d members, want %d", step.op, cnt.Count, n)
		}
		for i := 0; i < n; i++ {
			want := step.first + i*step.dir
			select {
			case ev := <-events:
				if ev.Kind != step.kind || ev.Domain != want {
					t.Fatalf("%s: event %d is %s d%d, want %s d%d", step.op, i, ev.Kind, ev.Domain, step.kind, want)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: %d of %d events after 30 s\n%s", step.op, i, n, r.Serial())
			}
		}
		t.Logf("%s: %d events in %v", step.op, n, time.Since(t0).Round(time.Millisecond))
	}
	if strings.Contains(r.All(), "events lost") {
		t.Fatalf("the agent lost events:\n%s", r.Serial())
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}
