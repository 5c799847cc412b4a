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
func BenchmarkGuestScaling(b *testing.B) {
	im := Build(b)
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
	speedup := float64(took[1]) / float64(took[2])
	b.ReportMetric(took[1].Seconds(), "s-two-guests-1cpu")
	b.ReportMetric(took[2].Seconds(), "s-two-guests-2cpu")
	b.ReportMetric(speedup, "x-speedup-2cpu")
	b.Logf("two CPU-bound guests: %v on 1 CPU, %v on 2 CPUs: %.2fx (target >= 1.7x; multi-threaded TCG)",
		took[1].Round(time.Millisecond), took[2].Round(time.Millisecond), speedup)
}

// BenchmarkPauseAcrossCPUs: hv/pause-across-cpus's medians, a pause of a
// vCPU spinning on another CPU (an IPI kicks it out) against one queued on
// the caller's own CPU (no kick needed).
func BenchmarkPauseAcrossCPUs(b *testing.B) {
	im := Build(b)
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
	b.ReportMetric(float64(cross.Microseconds()), "us-pause-cross-cpu")
	b.ReportMetric(float64(same.Microseconds()), "us-pause-same-cpu")
	b.ReportMetric(float64(cross)/float64(same), "x-cross/same")
	b.Logf("pause: cross-CPU %v, same CPU %v (%.1fx); without the kick a cross-CPU pause waits for the 2 s slice",
		cross, same, float64(cross)/float64(same))
}
