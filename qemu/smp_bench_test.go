package qemu

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// SMP benchmarks (make bench): boot time by CPU count, and the in-image
// `bench=smp` figures (kernel/smp_bench.go) from boots with one and two
// CPUs, each against its baseline from the same run.

var smpCounts = []int{1, 2, 4}

// BenchmarkSMPBoot: QEMU start to Grove's first line ("grove: kernel
// starting"), to the CPU line (the APs are up), and to the prompt, on 1, 2
// and 4 CPUs (medians of bootRuns boots), with ratios against one CPU.
func BenchmarkSMPBoot(b *testing.B) {
	im := Build(b)
	rep := newReport(b, "smp-boot")
	first, online, prompt := map[int]time.Duration{}, map[int]time.Duration{}, map[int]time.Duration{}
	for _, n := range smpCounts {
		var f, o, p []time.Duration
		for i := 0; i < bootRuns; i++ {
			r := Start(b, "smpboot", Boot{Kernel: im.Grove, Accel: MultiAccel, Args: []string{"-smp", strconv.Itoa(n)}, Timeout: time.Minute})
			r.Expect("grove: kernel starting", 30*time.Second)
			f = append(f, time.Since(r.started))
			r.Expect(onlineLine(seq(n)...), 30*time.Second)
			o = append(o, time.Since(r.started))
			r.Expect("grove> ", 30*time.Second)
			p = append(p, time.Since(r.started))
			r.Send("halt\r")
			r.WantStatus(StatusSuccess)
		}
		first[n], online[n], prompt[n] = median(f), median(o), median(p)
	}
	for _, n := range smpCounts {
		on := fmt.Sprintf(", %d CPU", n)
		if n > 1 {
			on += "s"
		}
		rep.add("QEMU start to Grove's first line"+on, "ms", ms(first[n]))
		rep.add("CPUs up after the first line"+on, "ms", ms(online[n]-first[n]))
		row := rep.add("QEMU start to prompt"+on, "ms", ms(prompt[n]))
		if n > 1 {
			row.vs("1 CPU", ms(prompt[1]))
		}
	}
	plotSMPBoot(b, first, online, prompt)
}

// plotSMPBoot draws the boot milestones against the CPU count.
func plotSMPBoot(b *testing.B, first, online, prompt map[int]time.Duration) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Boot time by CPU count (median of %d boots, -accel %s)", bootRuns, MultiAccel)
	p.X.Label.Text, p.Y.Label.Text = "CPUs", "ms from QEMU start"
	line := func(m map[int]time.Duration) plotter.XYs {
		var xy plotter.XYs
		for _, n := range smpCounts {
			xy = append(xy, plotter.XY{X: float64(n), Y: ms(m[n])})
		}
		return xy
	}
	if err := plotutil.AddLinePoints(p, "first line", line(first), "CPUs online", line(online),
		"prompt", line(prompt)); err != nil {
		b.Fatal(err)
	}
	p.Y.Min = 0 // the legend goes below the lines, bottom right
	if err := p.Save(6*vg.Inch, 4*vg.Inch, filepath.Join(benchDir(), "smp-boot.svg")); err != nil {
		b.Fatal(err)
	}
}

var smpBenchLine = regexp.MustCompile(`bench: (\S+) (\d+) ns/op`)

// smpFigures boots bench=smp with cpus CPUs and accel, and returns its
// figures (ns per op) and the QEMU command line.
func smpFigures(b *testing.B, im Images, cpus int, accel string) (map[string]float64, string) {
	r := Start(b, "smpbench", Boot{Kernel: im.Grove, Append: "bench=smp", Accel: accel,
		Args: []string{"-smp", strconv.Itoa(cpus)}, Timeout: 5 * time.Minute})
	r.Expect("bench: spin-work is", 4*time.Minute)
	r.WantStatus(StatusSuccess)
	out := r.All()
	if strings.Contains(out, " failed: ") {
		b.Fatalf("a benchmark failed on %d CPUs:\n%s", cpus, r.Serial())
	}
	got := map[string]float64{}
	for _, m := range smpBenchLine.FindAllStringSubmatch(out, -1) {
		got[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	want := []string{"unmap-page", "membarrier", "spin-work"}
	if cpus > 1 {
		want = append(want, "chan-pingpong-same-cpu", "chan-pingpong-cross-cpu",
			"futex-pingpong-same-cpu", "futex-pingpong-cross-cpu", "unmap-page-other-cpu-busy",
			"membarrier-other-cpu-busy")
	}
	for _, k := range want {
		if got[k] == 0 {
			b.Fatalf("no %s figure on %d CPUs in:\n%s", k, cpus, r.Serial())
		}
	}
	return got, strings.Join(r.VM.Cmdline(), " ")
}

// BenchmarkSMPKernel: wake-up round trips across CPUs against the same
// CPU, the TLB shoot-down an unmap costs and a membarrier on two CPUs
// against one, and the speed-up of a fixed CPU-bound job from one CPU to
// two (the ratio of its row). The same pair of boots under single-threaded
// TCG is the control for the speed-up: it shows that the speed-up comes
// from QEMU running both CPUs at once.
func BenchmarkSMPKernel(b *testing.B) {
	im := Build(b)
	rep := newReport(b, "smp-kernel")
	one, _ := smpFigures(b, im, 1, MultiAccel)
	two, cmdline := smpFigures(b, im, 2, MultiAccel)
	singleOne, _ := smpFigures(b, im, 1, "tcg,thread=single")
	single, _ := smpFigures(b, im, 2, "tcg,thread=single")
	if !strings.Contains(cmdline, "-accel tcg,thread=multi") {
		b.Fatalf("QEMU did not run with multi-threaded TCG: %s", cmdline)
	}
	for _, k := range []string{"chan-pingpong", "futex-pingpong"} {
		same, cross := two[k+"-same-cpu"]/1e3, two[k+"-cross-cpu"]/1e3
		rep.add(k+" round trip across CPUs", "µs", cross).vs("same CPU", same)
		rep.add(k+" across CPUs, tcg,thread=single", "µs", single[k+"-cross-cpu"]/1e3).
			vs("same CPU", single[k+"-same-cpu"]/1e3)
	}
	rep.add("unmap of one page, 2 CPUs", "µs", two["unmap-page"]/1e3).vs("1 CPU", one["unmap-page"]/1e3)
	rep.add("TLB shoot-down to a halted CPU (difference)", "µs", (two["unmap-page"]-one["unmap-page"])/1e3)
	rep.add("TLB shoot-down to a busy CPU (difference)", "µs", (two["unmap-page-other-cpu-busy"]-one["unmap-page"])/1e3)
	rep.add("membarrier, 2 CPUs", "µs", two["membarrier"]/1e3).vs("1 CPU", one["membarrier"]/1e3)
	rep.add("membarrier, 2 CPUs, the other busy", "µs", two["membarrier-other-cpu-busy"]/1e3).vs("1 CPU", one["membarrier"]/1e3)
	speedup := one["spin-work"] / two["spin-work"]
	rep.add("CPU-bound job (8 goroutines) on 1 CPU", "ms", one["spin-work"]/1e6).vs("on 2 CPUs", two["spin-work"]/1e6)
	rep.add("the same job under tcg,thread=single, 1 CPU", "ms", singleOne["spin-work"]/1e6).
		vs("on 2 CPUs", single["spin-work"]/1e6)
	if speedup < 1.5 {
		rep.note("the CPU-bound job gained only %.2fx from a second CPU: the host's cores were busy with other work, or TCG ran one CPU at a time", speedup)
	}
}
