package qemu

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// Benchmarks of the hypervisor on several CPUs (make bench).

// BenchmarkGuestScaling: two CPU-bound 1-vCPU guests (guest=work: 10^9
// loop iterations each, no exits of their own) finish on -smp 2 against
// -smp 1, in the same run. QEMU runs with -accel tcg,thread=multi, one host
// thread per virtual CPU, so on a host with two free cores the speed-up
// approaches 2; well below that means QEMU or the host serialised them.
// The ratio is the speed-up.
func BenchmarkGuestScaling(b *testing.B) {
	im := Build(b)
	rep := newReport(b, "guest-scaling")
	var took [3]time.Duration
	for _, n := range []int{1, 2} {
		r := Start(b, "scaling", Boot{Kernel: im.Grove, Append: "guest=work guest=work",
			Accel: MultiAccel, Args: []string{"-smp", strconv.Itoa(n)}, Timeout: 5 * time.Minute})
		r.ExpectAll(60*time.Second, "(d1) working", "(d2) working")
		t0 := time.Now()
		r.ExpectAll(4*time.Minute, "(d1) shut down (poweroff)", "(d2) shut down (poweroff)")
		took[n] = time.Since(t0)
		r.Send("halt\r")
		r.WantStatus(StatusSuccess)
	}
	rep.add("two guests' work on 1 CPU", "s", took[1].Seconds()).
		vs("on 2 CPUs", took[2].Seconds()).want(onRatio(atLeast(1.7, 10)))
}

// BenchmarkPauseAcrossCPUs: hv/pause-across-cpus's medians, a pause of a
// vCPU spinning on another CPU (an IPI kicks it out) against one queued on
// the caller's own CPU (no kick needed).
func BenchmarkPauseAcrossCPUs(b *testing.B) {
	im := Build(b)
	rep := newReport(b, "pause-across-cpus")
	r := Start(b, "pausebench", Boot{Accel: MultiAccel, Kernel: im.Grove, Args: []string{"-smp", "2"},
		Append: "selftest=hv/pause-across-cpus"})
	line := r.Expect("(same CPU: ", 90*time.Second)
	r.WantStatus(StatusSuccess)
	m := regexp.MustCompile(`median ([0-9.]+[µmn]?s) \(same CPU: ([0-9.]+[µmn]?s)\)`).FindStringSubmatch(line + r.All())
	if m == nil {
		b.Fatalf("no pause figures in:\n%s", r.All())
	}
	cross, _ := time.ParseDuration(m[1])
	same, _ := time.ParseDuration(m[2])
	rep.add("pause of a vCPU on another CPU", "µs", float64(cross.Nanoseconds())/1e3).
		vs("on the caller's CPU", float64(same.Nanoseconds())/1e3)
}
