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

// The control channel's latency and dom0's idle cost in three boots of the
// same image with 8 heartbeat guests: the agent as it is by default
// (COM2's interrupt and domain events as VIRQs, and the shared-memory rings
// grovectl asks for: ctl/ring), the same agent reached over the serial line
// alone (proto.DialSerial, grovectl --serial), and its "poll" mode (the old
// channel: trapped port I/O, COM2 polled every 5 ms, events every 50 ms).

// ctlFigures are one mode's medians.
type ctlFigures struct {
	list, tiny, groupPause, grovectl time.Duration
	coldList                         time.Duration // a list round trip after the agent idled 100 ms
	idleExits                        float64       // dom0's exits per second, idle
}

const (
	ctlReps     = 30
	idleWindow  = 5 * time.Second
	ctlMembers  = 8
	targetRTT   = 5 * time.Millisecond
	targetExits = 50
)

// BenchmarkControlChannel reports the medians of a `list` round trip (back
// to back, and after the agent idled 100 ms), of a tiny request, of a group pause of 8 members and of a whole `grovectl
// list` process over the rings against the serial line alone, and dom0's
// idle exit rate, interrupt-driven against the poll mode, with the poll
// mode's figures beside.
func BenchmarkControlChannel(b *testing.B) {
	rep := newReport(b, "control-channel")
	poll := measureChannel(b, "poll", true)
	serial := measureChannel(b, "", true)
	rings := measureChannel(b, "", false)
	rep.add("list round trip", "ms", ms(rings.list)).vs("serial line", ms(serial.list)).want(atMost(ms(targetRTT), 12))
	rep.add("list round trip, agent idle before", "ms", ms(rings.coldList)).vs("serial line", ms(serial.coldList))
	rep.add("events.subscribe (tiny request)", "ms", ms(rings.tiny)).vs("serial line", ms(serial.tiny))
	rep.add("group pause, 8 members", "ms", ms(rings.groupPause)).vs("serial line", ms(serial.groupPause)).want(atMost(ms(targetRTT), 12))
	rep.add("grovectl list (whole process)", "ms", ms(rings.grovectl)).vs("serial line", ms(serial.grovectl))
	rep.add("dom0 idle exits", "/s", rings.idleExits).vs("poll mode", poll.idleExits).want(atMost(targetExits, 12))
	rep.add("poll mode: list round trip", "ms", ms(poll.list)).vs("rings", ms(rings.list))
	rep.add("poll mode: group pause, 8 members", "ms", ms(poll.groupPause)).vs("rings", ms(rings.groupPause))
}

// measureChannel boots Grove with the agent given args and 8 heartbeat
// guests, and measures the figures, over the serial line alone if
// serialOnly.
func measureChannel(b *testing.B, args string, serialOnly bool) ctlFigures {
	im := Build(b)
	sock := filepath.Join(b.TempDir(), "grove.sock")
	r := Start(b, "ctlbench", Boot{Kernel: im.Grove, Control: sock, Append: strings.Repeat("guest=heartbeat ", ctlMembers),
		Initrd: im.Agent + " name=dom0 privileged " + args, Timeout: 10 * time.Minute})
	r.ExpectAll(60*time.Second, "(d0) agent: control domain up", fmt.Sprintf("grove: created d%d (heartbeat)", ctlMembers))
	dial, flags := proto.Dial, []string{}
	if serialOnly {
		dial, flags = proto.DialSerial, []string{"--serial"}
	}
	c, err := dial(sock, 10*time.Second)
	if err != nil {
		b.Fatalf("dialing the agent: %v", err)
	}
	ctx := context.Background()
	var f ctlFigures
	f.idleExits = idleExits(b, r)
	f.list = medianOf(ctlReps, func() { must(b, c.Call(ctx, proto.OpList, nil, &proto.DomainList{})) })
	f.tiny = medianOf(ctlReps, func() { must(b, c.Call(ctx, proto.OpEventSubscribe, nil, nil)) })
	var colds []time.Duration
	for i := 0; i < ctlReps/3; i++ {
		time.Sleep(100 * time.Millisecond) // the agent is asleep again, not watching the ring
		t0 := time.Now()
		must(b, c.Call(ctx, proto.OpList, nil, &proto.DomainList{}))
		colds = append(colds, time.Since(t0))
	}
	f.coldList = median(colds)
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
		if out, err := exec.Command(bin, append([]string{"--socket", sock, "list"}, flags...)...).CombinedOutput(); err != nil {
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
