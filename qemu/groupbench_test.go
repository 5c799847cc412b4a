package qemu

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"grove/ctl/proto"
)

// BenchmarkGroupPause: from the host, over the control agent's serial line,
// the time from sending a group pause to its answer (all members
// descheduled), for groups of 1, 2, 4 and 8 heartbeat guests, against
// pausing the same members one by one in the same run. Writes
// out/bench/group-pause.csv and out/bench/group-pause.svg.
func BenchmarkGroupPause(b *testing.B) {
	im := Build(b)
	rep := newReport(b, "group-pause")
	sock := filepath.Join(b.TempDir(), "grove.sock")
	guests := strings.Repeat("guest=heartbeat ", 8)
	r := Start(b, "grouppause", Boot{Kernel: im.Grove, Control: sock, Append: guests,
		Initrd: im.Agent + " name=dom0 privileged", Timeout: 10 * time.Minute})
	c := dialAgent(b, r, sock, "grove: created d8 (heartbeat)")
	ctx := context.Background()
	const reps = 5
	var rows [][3]float64 // members, group ms, singles ms
	for _, n := range []int{1, 2, 4, 8} {
		var gid proto.GroupID
		must(b, c.Call(ctx, proto.OpGroupCreate, proto.GroupArgs{}, &gid))
		for d := 1; d <= n; d++ {
			must(b, c.Call(ctx, proto.OpGroupJoin, proto.JoinArgs{Group: gid.Group, Domain: d}, nil))
		}
		var group, single []time.Duration
		for i := 0; i < reps; i++ {
			t0 := time.Now()
			must(b, c.Call(ctx, proto.OpGroupPause, proto.GroupArgs{Group: gid.Group}, nil))
			group = append(group, time.Since(t0))
			must(b, c.Call(ctx, proto.OpGroupUnpause, proto.GroupArgs{Group: gid.Group}, nil))
			t0 = time.Now()
			for d := 1; d <= n; d++ {
				must(b, c.Call(ctx, proto.OpPause, proto.DomainArgs{Domain: d}, nil))
			}
			single = append(single, time.Since(t0))
			for d := 1; d <= n; d++ {
				must(b, c.Call(ctx, proto.OpUnpause, proto.DomainArgs{Domain: d}, nil))
			}
		}
		for d := 1; d <= n; d++ {
			must(b, c.Call(ctx, proto.OpGroupLeave, proto.DomainArgs{Domain: d}, nil))
		}
		must(b, c.Call(ctx, proto.OpGroupDestroy, proto.GroupArgs{Group: gid.Group}, nil))
		rows = append(rows, [3]float64{float64(n), ms(median(group)), ms(median(single))})
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
	writeGroupPause(b, rep, rows)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func must(b testing.TB, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// writeGroupPause reports the rows (the speed-up of a group pause over
// single pauses is the ratio) and draws them.
func writeGroupPause(b *testing.B, rep *benchRows, rows [][3]float64) {
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	for _, r := range rows {
		n := fmt.Sprintf("%.0f member", r[0])
		if r[0] != 1 {
			n += "s"
		}
		row := rep.add("pausing "+n+" one by one", "ms", r[2]).vs("group pause", r[1])
		if r[0] == 8 {
			row.want(onRatio(atLeast(4, 6)))
		}
	}
	p := plot.New()
	p.Title.Text = "Group pause vs pausing members one by one (QEMU TCG)"
	p.X.Label.Text = "members"
	p.Y.Label.Text = "latency (ms)"
	group, single := make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows))
	for i, r := range rows {
		group[i], single[i] = plotter.XY{X: r[0], Y: r[1]}, plotter.XY{X: r[0], Y: r[2]}
	}
	if err := plotutil.AddLinePoints(p, "group pause", group, "single pauses", single); err != nil {
		b.Fatal(err)
	}
	if err := p.Save(6*vg.Inch, 4*vg.Inch, filepath.Join(benchDir(), "group-pause.svg")); err != nil {
		b.Fatal(err)
	}
}
