package qemu

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SMP benchmarks (make bench): boot time by CPU count, and the in-image
// `bench=smp` figures (kernel/smp_bench.go) from boots with one and two
// CPUs, each against its baseline from the same run.

var smpCounts = []int{1, 2, 4}

// note prints a benchmark's summary line on stdout: b.Logf's output would be
// cut to its first lines, which the QEMU runs' serial logs fill.
func note(b *testing.B, format string, args ...any) {
	fmt.Printf("%s: %s\n", b.Name(), fmt.Sprintf(format, args...))
}

// BenchmarkSMPBoot: QEMU start to Grove's first line ("grove: kernel
// starting"), to the CPU line (the APs are up), and to the prompt, on 1, 2
// and 4 CPUs (medians of bootRuns boots), with ratios against one CPU.
func BenchmarkSMPBoot(b *testing.B) {
	im := Build(b)
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
	var log strings.Builder
	for _, n := range smpCounts {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(first[n]), fmt.Sprintf("ms-first-line-%dcpu", n))
		b.ReportMetric(ms(online[n]-first[n]), fmt.Sprintf("ms-cpu-startup-%dcpu", n))
		b.ReportMetric(ms(prompt[n]), fmt.Sprintf("ms-to-prompt-%dcpu", n))
		ratio := float64(prompt[n]) / float64(prompt[1])
		b.ReportMetric(ratio, fmt.Sprintf("ratio-prompt-%dcpu/1cpu", n))
		fmt.Fprintf(&log, "\n  %d CPU(s): first line %v, CPUs up %v later, prompt %v (%.2fx one CPU's)",
			n, first[n].Round(time.Millisecond), (online[n] - first[n]).Round(time.Millisecond),
			prompt[n].Round(time.Millisecond), ratio)
	}
	note(b, "boot by CPU count (median of %d, QEMU -accel %s):%s", bootRuns, MultiAccel, log.String())
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
// two. The same pair of boots under single-threaded TCG is the control for
// the speed-up: it shows that the speed-up comes from QEMU running both
// CPUs at once.
func BenchmarkSMPKernel(b *testing.B) {
	im := Build(b)
	one, _ := smpFigures(b, im, 1, MultiAccel)
	two, cmdline := smpFigures(b, im, 2, MultiAccel)
	singleOne, _ := smpFigures(b, im, 1, "tcg,thread=single")
	single, _ := smpFigures(b, im, 2, "tcg,thread=single")
	if !strings.Contains(cmdline, "-accel tcg,thread=multi") {
		b.Fatalf("QEMU did not run with multi-threaded TCG: %s", cmdline)
	}
	for _, k := range []string{"chan-pingpong", "futex-pingpong"} {
		same, cross := two[k+"-same-cpu"], two[k+"-cross-cpu"]
		b.ReportMetric(same, "ns-"+k+"-same-cpu")
		b.ReportMetric(cross, "ns-"+k+"-cross-cpu")
		b.ReportMetric(cross/same, "ratio-"+k+"-cross/same")
		note(b, "%s round trip: same CPU %.1f µs, across CPUs %.1f µs (%.2fx); under single-threaded TCG %.1f / %.1f µs (%.2fx)",
			k, same/1e3, cross/1e3, cross/same, single[k+"-same-cpu"]/1e3, single[k+"-cross-cpu"]/1e3,
			single[k+"-cross-cpu"]/single[k+"-same-cpu"])
	}
	idle, busy := two["unmap-page"]-one["unmap-page"], two["unmap-page-other-cpu-busy"]-one["unmap-page"]
	b.ReportMetric(one["unmap-page"], "ns-unmap-1cpu")
	b.ReportMetric(two["unmap-page"], "ns-unmap-2cpu")
	b.ReportMetric(idle, "ns-shootdown-other-idle")
	b.ReportMetric(busy, "ns-shootdown-other-busy")
	note(b, "unmap of one page: %.1f µs on 1 CPU, %.1f µs on 2 (TLB shoot-down IPI round trip ≈ %.1f µs to a halted CPU, %.1f µs to a busy one)",
		one["unmap-page"]/1e3, two["unmap-page"]/1e3, idle/1e3, busy/1e3)
	b.ReportMetric(one["membarrier"], "ns-membarrier-1cpu")
	b.ReportMetric(two["membarrier"], "ns-membarrier-2cpu")
	b.ReportMetric(two["membarrier-other-cpu-busy"], "ns-membarrier-2cpu-other-busy")
	note(b, "membarrier (what an RCU grace period adds in the image): %.1f µs on 1 CPU, %.1f µs on 2 (%.1f µs with the other CPU busy)",
		one["membarrier"]/1e3, two["membarrier"]/1e3, two["membarrier-other-cpu-busy"]/1e3)
	speedup, control := one["spin-work"]/two["spin-work"], singleOne["spin-work"]/single["spin-work"]
	b.ReportMetric(one["spin-work"]/1e6, "ms-spin-work-1cpu")
	b.ReportMetric(two["spin-work"]/1e6, "ms-spin-work-2cpu")
	b.ReportMetric(speedup, "speedup-2cpu/1cpu")
	b.ReportMetric(control, "speedup-2cpu-single-thread-tcg")
	verdict := "QEMU ran both CPUs at once (multi-threaded TCG in use)"
	if speedup < 1.5 {
		verdict = "below 1.5x: the host's cores were busy with other work, or TCG ran one CPU at a time"
	}
	note(b, "CPU-bound job (8 goroutines): %.0f ms on 1 CPU, %.0f ms on 2: speed-up %.2fx with -accel %s; %.2fx under tcg,thread=single; %s",
		one["spin-work"]/1e6, two["spin-work"]/1e6, speedup, MultiAccel, control, verdict)
}
