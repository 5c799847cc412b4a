package qemu

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"grove/ctl/proto"
	"grove/guests/asm"
)

// BenchmarkGang: on 2 and 4 CPUs, as many CPU-bound 1-vCPU members of one
// group as CPUs beside as many CPU-bound competitors (all Tally guests,
// counting units of work), with the default 10 ms slice. In one run each:
// the group under none, gang, gang again and none again. Reports the gang's start skew
// (the hypervisor's counters: p50/p99/max) and the total work done per
// second by all guests under both policies, gang/none being the cost of
// gang scheduling. Writes out/bench/gang.csv, gang-skew.svg and
// gang-throughput.svg. docs/scheduling.md says what dominates the skew
// under QEMU.
func BenchmarkGang(b *testing.B) {
	im := Build(b)
	rep := newReport(b, "gang")
	var rows []gangRow
	for _, cpus := range []int{2, 4} {
		r := benchGang(b, im, cpus)
		rows = append(rows, r)
		on := fmt.Sprintf(", %d CPUs", cpus)
		rep.add("gang start skew p50"+on, "µs", r.p50).want(below(50, 11))
		rep.add("gang start skew p99"+on, "µs", r.p99).want(below(500, 11))
		rep.add("gang start skew max"+on, "µs", r.max)
		rep.add("gang turns measured"+on, "turns", float64(r.turns))
		rep.add("CPU-bound mix under gang"+on, "work/s", r.gang).vs("under none", r.none)
	}
	writeGangBench(b, rows)
}

// gangRow is one CPU count's figures.
type gangRow struct {
	cpus          int
	p50, p99, max float64 // start skew, µs
	turns         uint64
	none, gang    float64 // work units per second, all guests
}

const gangBenchPhase = 3 * time.Second

// benchGang boots the mix on cpus CPUs and measures it under none, then
// gang.
func benchGang(b *testing.B, im Images, cpus int) gangRow {
	toml := "[[domain]]\nname = \"dom0\"\nimage = \"guests/agent.elf\"\nmemory_mb = 48\nprivileged = true\n"
	for i := 0; i < 2*cpus; i++ {
		name := fmt.Sprintf("c%d", i)
		if i < cpus {
			name = fmt.Sprintf("m%d", i)
		}
		toml += fmt.Sprintf("[[domain]]\nname = %q\nimage = \"guests/tally.elf\"\nmemory_mb = 16\n", name)
	}
	files := map[string][]byte{"tally": asmImage(b)(asm.Tally(1_000_000, 500))}
	sock := filepath.Join(b.TempDir(), "grove.sock")
	l := startCPUs(b, fmt.Sprintf("gang-bench-smp%d", cpus), Boot{Kernel: im.Grove, Control: sock,
		Timeout: 3 * time.Minute, Initrd: guestBundle(b, im, toml, files)}, cpus)
	call := agentCaller(b, l, sock)
	call(proto.OpGroupCreate, proto.GroupArgs{Group: 7}, nil)
	for d := 1; d <= cpus; d++ { // the members, m0... (dom0 is d0)
		call(proto.OpGroupJoin, proto.JoinArgs{Group: 7, Domain: d}, nil)
		call(proto.OpGroupGang, proto.GangArgs{Domain: d, Gang: true}, nil)
	}
	// none, gang, gang, none: a load on the host that drifts during the
	// run weighs on both policies alike.
	row := gangRow{cpus: cpus}
	n1 := tallyRate(b, l)
	call(proto.OpGroupPolicy, proto.PolicyArgs{Group: 7, Policy: "gang"}, nil)
	call(proto.OpGroupStats, proto.StatsArgs{Group: 7, Reset: true}, nil)
	g1, g2 := tallyRate(b, l), tallyRate(b, l)
	var st proto.GroupStats
	call(proto.OpGroupStats, proto.StatsArgs{Group: 7}, &st)
	call(proto.OpGroupPolicy, proto.PolicyArgs{Group: 7, Policy: "none"}, nil)
	n2 := tallyRate(b, l)
	row.none, row.gang = (n1+n2)/2, (g1+g2)/2
	verbosef(b, "%d CPUs: work/s none %.0f, gang %.0f, gang %.0f, none %.0f", cpus, n1, g1, g2, n2)
	row.p50, row.p99, row.max = float64(st.SkewP50NS)/1e3, float64(st.SkewP99NS)/1e3, float64(st.SkewMaxNS)/1e3
	row.turns = st.SkewSamples
	l.halt()
	return row
}

// agentCaller returns a function making calls to the agent that fails the
// benchmark on an error.
func agentCaller(b *testing.B, l *lineLog, sock string) func(op string, args, res any) {
	c := dialLines(b, l, sock)
	return func(op string, args, res any) {
		b.Helper()
		must(b, c.Call(context.Background(), op, args, res))
	}
}

var (
	tallyRateLine = regexp.MustCompile(`\(d\d+\) tally: T/s ([0-9a-f]{8})`)
	tallyLine     = regexp.MustCompile(`\(d(\d+)\) tally ([0-9a-f]{8}) ([0-9a-f]{8})`)
)

// tallyRate lets the guests run a second (the policy settles), then a
// phase, and returns the work units per second all of them did in it:
// for each guest, its units between its first and last report of the
// phase over the T between them (its own clock, so the host's lag in
// reading the lines does not count).
func tallyRate(b *testing.B, l *lineLog) float64 {
	time.Sleep(time.Second)
	from := l.len()
	time.Sleep(gangBenchPhase)
	var perSec float64
	for _, s := range l.since(0) {
		if m := tallyRateLine.FindStringSubmatch(s); m != nil {
			v, _ := strconv.ParseUint(m[1], 16, 32)
			perSec = float64(v)
		}
	}
	type report struct{ units, t uint32 }
	first, last := map[string]report{}, map[string]report{}
	for _, s := range l.since(from) {
		m := tallyLine.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		u, _ := strconv.ParseUint(m[2], 16, 32)
		t, _ := strconv.ParseUint(m[3], 16, 32)
		if _, ok := first[m[1]]; !ok {
			first[m[1]] = report{uint32(u), uint32(t)}
		}
		last[m[1]] = report{uint32(u), uint32(t)}
	}
	var rate float64
	for d, f := range first {
		if l := last[d]; l.t != f.t {
			rate += float64(l.units-f.units) / float64(l.t-f.t) * perSec
		}
	}
	if rate == 0 || perSec == 0 {
		b.Fatalf("no work reported in %v", gangBenchPhase)
	}
	return rate
}

// writeGangBench draws the skew and the throughput by CPU count.
func writeGangBench(b *testing.B, rows []gangRow) {
	dir := benchDir()
	skew := map[string][]float64{}
	work := map[string][]float64{}
	var names []string
	for _, r := range rows {
		names = append(names, fmt.Sprintf("%d CPUs", r.cpus))
		skew["p50"], skew["p99"], skew["max"] = append(skew["p50"], r.p50), append(skew["p99"], r.p99), append(skew["max"], r.max)
		work["none"], work["gang"] = append(work["none"], r.none), append(work["gang"], r.gang)
	}
	barPlot(b, filepath.Join(dir, "gang-skew.svg"), "Gang start skew (QEMU multi-threaded TCG)", "µs", names,
		[]string{"p50", "p99", "max"}, skew)
	barPlot(b, filepath.Join(dir, "gang-throughput.svg"), "CPU-bound mix: work units per second", "units/s", names,
		[]string{"none", "gang"}, work)
}

// barPlot saves a grouped bar chart: one group per name, one bar per series.
func barPlot(b *testing.B, path, title, unit string, names, series []string, vals map[string][]float64) {
	p := plot.New()
	p.Title.Text, p.Y.Label.Text = title, unit
	w := vg.Points(18)
	for i, s := range series {
		bars, err := plotter.NewBarChart(plotter.Values(vals[s]), w)
		if err != nil {
			b.Fatal(err)
		}
		bars.Color = plotutil.Color(i)
		bars.Offset = w * vg.Length(i-len(series)/2)
		p.Add(bars)
		p.Legend.Add(s, bars)
	}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, p.Y.Max*1.3 // room for the legend above the bars
	p.NominalX(names...)
	if err := p.Save(6*vg.Inch, 4*vg.Inch, path); err != nil {
		b.Fatal(err)
	}
}
