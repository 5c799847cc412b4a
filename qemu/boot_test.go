package qemu

import (
	"regexp"
	"testing"
	"time"
)

// These boot the real image and check what it prints and how QEMU exits.

// The in-image self-tests include those of parallelism (kernel/smp-*, the
// gang and relaxed ones): they run on multi-threaded TCG, as selftest.sh does.
// TestSelftest runs the kernel's in-image self-tests on two CPUs under
// multi-threaded TCG, for their parallelism. The hypervisor's self-tests
// run guests, and QEMU 7.2's multi-threaded SVM sometimes hands a guest
// the host's state (docs/qemu-tcg.md): make test's test-selftest stage
// (scripts/selftest.sh) runs every self-test under single-threaded TCG,
// and the hypervisor's parallel side runs under multi-threaded TCG in the
// tests made for it (hvsmp_test.go, gang_test.go, gang_pairs_test.go).
func TestSelftest(t *testing.T) {
	im := Build(t)
	r := Start(t, "selftest", Boot{Kernel: im.Grove, Append: "selftest=kernel/", Timeout: 5 * time.Minute, Accel: MultiAccel})
	out := r.Expect("selftest: ", 4*time.Minute)
	out += r.Expect(" failed", 5*time.Second)
	r.WantStatus(StatusSuccess)
	if m := regexp.MustCompile(`selftest: (\d+) passed, 0 failed`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Fatalf("no clean selftest summary in:\n%s", r.Serial())
	}
}

func TestBootBanner(t *testing.T) {
	im := Build(t)
	r := Start(t, "banner", Boot{Kernel: im.Grove, Append: "selftest=none"})
	r.Expect("boot protocol multiboot", 30*time.Second)
	r.Expect("usable", 10*time.Second)
	r.Expect("SVM=true NPT=true", 10*time.Second)
	r.Expect("selftest: 0 passed, 0 failed", 30*time.Second)
	r.WantStatus(StatusSuccess)
}

func TestPVHBoot(t *testing.T) {
	im := Build(t)
	r := Start(t, "pvh", Boot{Kernel: im.PVH, Append: "selftest=kernel/timers"})
	r.Expect("boot protocol pvh", 30*time.Second)
	r.Expect("ok   kernel/timers", 60*time.Second)
	r.Expect("selftest: 1 passed, 0 failed", 10*time.Second)
	r.WantStatus(StatusSuccess)
}

// Faults must end the run with a report and a failure status within 10 s.
func TestFaultsAreReported(t *testing.T) {
	im := Build(t)
	for _, tc := range []struct {
		append, mem string
		want        []string
	}{
		{"crash=nil", "", []string{"panic: runtime error: invalid memory address or nil pointer dereference",
			"[signal SIGSEGV: segmentation violation", "main.main()"}},
		// The report names the CPU; on -smp 2 the crash may be on either.
		{"crash=kernel", "", []string{"kernel: cpu ", ": fault in kernel code: page fault (vector 14)",
			"rip=0x", "grove/kernel.sysGroveCrashFn+0x", "rflags="}},
		{"crash=double", "", []string{"kernel: cpu ", ": fault in kernel code: double fault (vector 8)",
			"grove/kernel.sysGroveCrashDFFn+0x"}},
		// On an application processor, named, with the same reports.
		{"crash=kernel-ap", "", []string{"grove: crashing on cpu 1", "kernel: cpu 1: fault in kernel code: page fault (vector 14)",
			"rip=0x", "grove/kernel.sysGroveCrashFn+0x", "rflags="}},
		{"crash=nil-ap", "", []string{"grove: crashing on cpu 1", "panic: runtime error: invalid memory address or nil pointer dereference",
			"[signal SIGSEGV: segmentation violation", "main.crashOnAP("}},
		{"", "32M", []string{"grove: not enough memory: 31 MiB usable"}},
	} {
		t.Run(tc.append+tc.mem, func(t *testing.T) {
			r := Start(t, "fault", Boot{Kernel: im.Grove, Append: tc.append, Mem: tc.mem, Timeout: 30 * time.Second})
			for _, w := range tc.want {
				r.Expect(w, 10*time.Second)
			}
			if d := r.WantStatus(StatusFailure); d > 10*time.Second {
				t.Errorf("took %v to power off, want < 10s", d)
			}
		})
	}
}

func TestConsolePrompt(t *testing.T) {
	im := Build(t)
	r := Start(t, "prompt", Boot{Kernel: im.Grove})
	r.Expect("grove> ", 30*time.Second)
	r.Send("mem\r")
	r.Expect("pages: total", 10*time.Second)
	r.Send("uptime\r")
	r.Expect("grove> ", 10*time.Second)
	r.Send("bogus\r")
	r.Expect(`unknown command "bogus"`, 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}
