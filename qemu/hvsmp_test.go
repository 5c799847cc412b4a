package qemu

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// The hypervisor on several CPUs (docs/smp.md).

// A 2-vCPU Go guest on two CPUs starts its second vCPU with vcpu_op and runs
// work on both at the same time: its heartbeat reports each vCPU's work and
// whether another vCPU's counter moved while this one ran without a break
// (guests/heartbeat/work.go).
func TestMultiVCPUGuest(t *testing.T) {
	im := Build(t)
	r := Start(t, "multivcpu", Boot{Accel: MultiAccel, Kernel: im.Grove, Args: []string{"-smp", "2"},
		Initrd: im.Heartbeat + " name=mv vcpus=2 period=500ms"})
	r.Expect("(d1) cpu: 2 online (vcpus 0 1)", 60*time.Second)
	r.Expect("together=yes", 60*time.Second)
	m := regexp.MustCompile(`\(d1\) beat [0-9a-f]+ vcpus=2 work=(\d+),(\d+) together=yes`).FindStringSubmatch(r.All())
	if m == nil {
		t.Fatal("no beat line with both vCPUs' work")
	}
	for i, w := range m[1:] {
		if n, _ := strconv.Atoi(w); n == 0 {
			t.Fatalf("vCPU %d did no work: %s", i, m[0])
		}
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// Pause from one CPU of a vCPU spinning on another (hv/pause-across-cpus):
// with a 2 s slice, only the IPI that kicks the other CPU lets the pause
// return in milliseconds; the guest stops and resumes ten times.
func TestPauseAcrossCPUs(t *testing.T) {
	im := Build(t)
	for _, cpus := range []string{"2", "4"} {
		t.Run("smp"+cpus, func(t *testing.T) {
			r := Start(t, "pause-smp"+cpus, Boot{Accel: MultiAccel, Kernel: im.Grove, Args: []string{"-smp", cpus},
				Append: "selftest=hv/pause-across-cpus"})
			r.Expect("hv: pause of a vCPU running on another CPU: median", 90*time.Second)
			r.Expect("ok   hv/pause-across-cpus", 30*time.Second)
			r.WantStatus(StatusSuccess)
		})
	}
}

// Every CPU's scheduler loop runs a guest at the same time.
func TestLoopsOnEveryCPU(t *testing.T) {
	im := Build(t)
	r := Start(t, "loops", Boot{Accel: MultiAccel, Kernel: im.Grove, Args: []string{"-smp", "4"}, Append: "selftest=hv/loops"})
	r.Expect("ok   hv/loops-on-every-cpu", 120*time.Second)
	r.WantStatus(StatusSuccess)
}
