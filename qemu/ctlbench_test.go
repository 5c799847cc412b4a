package qemu

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Netflix/go-expect"

	"grove/ctl/proto"
)

// The control channel's latency and dom0's idle cost, interrupt-driven
// (the agent's default: COM2's interrupt and domain events as VIRQs)
// against the agent's "poll" mode (the old channel: trapped port I/O, COM2
// polled every 5 ms, events every 50 ms), each in its own boot of the same
// image with 8 heartbeat guests.

// ctlFigures are one mode's medians.
type ctlFigures struct {
	list, tiny, groupPause, grovectl time.Duration
	idleExits                        float64 // dom0's exits per second, idle
}

const (
	ctlReps     = 30
	idleWindow  = 5 * time.Second
	ctlMembers  = 8
	targetRTT   = 5 * time.Millisecond
	targetExits = 50
)

// BenchmarkControlChannel reports the medians of a `list` round trip, of a
// tiny request, of a group pause of 8 members and of a whole `grovectl
// list` process, and dom0's idle exit rate, interrupt-driven against the
// poll mode.
func BenchmarkControlChannel(b *testing.B) {
	rep := newReport(b, "control-channel")
	poll := measureChannel(b, "poll")
	irq := measureChannel(b, "")
	rep.add("list round trip", "ms", ms(irq.list)).vs("poll mode", ms(poll.list)).want(atMost(ms(targetRTT), 12))
	rep.add("events.subscribe (tiny request)", "ms", ms(irq.tiny)).vs("poll mode", ms(poll.tiny))
	rep.add("group pause, 8 members", "ms", ms(irq.groupPause)).vs("poll mode", ms(poll.groupPause)).want(atMost(ms(targetRTT), 12))
	rep.add("grovectl list (whole process)", "ms", ms(irq.grovectl)).vs("poll mode", ms(poll.grovectl))
	rep.add("dom0 idle exits", "/s", irq.idleExits).vs("poll mode", poll.idleExits).want(atMost(targetExits, 12))
}

// measureChannel boots Grove with the agent given args and 8 heartbeat
// guests, and measures the figures.
func measureChannel(b *testing.B, args string) ctlFigures {
	im := Build(b)
	sock := filepath.Join(b.TempDir(), "grove.sock")
	r := Start(b, "ctlbench", Boot{Kernel: im.Grove, Control: sock, Append: strings.Repeat("guest=heartbeat ", ctlMembers),
		Initrd: im.Agent + " name=dom0 privileged " + args, Timeout: 10 * time.Minute})
	c := dialAgent(b, r, sock, fmt.Sprintf("grove: created d%d (heartbeat)", ctlMembers))
	ctx := context.Background()
	var f ctlFigures
	f.idleExits = idleExits(b, r)
	f.list = medianOf(ctlReps, func() { must(b, c.Call(ctx, proto.OpList, nil, &proto.DomainList{})) })
	f.tiny = medianOf(ctlReps, func() { must(b, c.Call(ctx, proto.OpEventSubscribe, nil, nil)) })
	var gid proto.GroupID
	must(b, c.Call(ctx, proto.OpGroupCreate, proto.GroupArgs{}, &gid))
	for d := 1; d <= ctlMembers; d++ {
		must(b, c.Call(ctx, proto.OpGroupJoin, proto.JoinArgs{Group: gid.Group, Domain: d}, nil))
	}
	var pauses []time.Duration
	for i := 0; i < ctlReps; i++ {
		t0 := time.Now()
		must(b, c.Call(ctx, proto.OpGroupPause, proto.GroupArgs{Group: gid.Group}, nil))
		pauses = append(pauses, time.Since(t0))
		must(b, c.Call(ctx, proto.OpGroupUnpause, proto.GroupArgs{Group: gid.Group}, nil))
	}
	f.groupPause = median(pauses)
	c.Close() // the socket takes one client: grovectl's turn
	bin := grovectl(b)
	f.grovectl = medianOf(ctlReps/3, func() {
		if out, err := exec.Command(bin, "--socket", sock, "list").CombinedOutput(); err != nil {
			b.Fatalf("grovectl list: %v\n%s", err, out)
		}
	})
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
	return f
}

func medianOf(n int, fn func()) time.Duration {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		fn()
		ds = append(ds, time.Since(t0))
	}
	return median(ds)
}

var dom0ExitsLine = regexp.MustCompile(`d0 +\S+ +\S+ +pause=\d+ mem=\S+ overhead=\S+ exits=(\d+) `)

// idleExits reads dom0's exit count from the hypervisor's console twice,
// idleWindow apart, with nothing asked of the agent meanwhile.
func idleExits(b *testing.B, r *Run) float64 {
	time.Sleep(time.Second) // the agent's start-up is over
	read := func() (int, time.Time) {
		r.Send("list\r")
		out, err := r.expect(10*time.Second, expect.Regexp(dom0ExitsLine))
		if err != nil {
			b.Fatalf("the console's list: %v\n%s", err, r.Serial())
		}
		m := dom0ExitsLine.FindAllStringSubmatch(out, -1)
		n, _ := strconv.Atoi(m[len(m)-1][1])
		return n, time.Now()
	}
	e0, t0 := read()
	time.Sleep(idleWindow)
	e1, t1 := read()
	return float64(e1-e0) / t1.Sub(t0).Seconds()
}
