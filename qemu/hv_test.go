package qemu

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// Hypervisor tests with the built-in assembly guests (guest=NAME).

// lastBeat returns the highest heartbeat domain d printed so far.
func lastBeat(serial string, d int) int {
	best := -1
	re := regexp.MustCompile(fmt.Sprintf(`\(d%d\) beat ([0-9a-f]{8})`, d))
	for _, m := range re.FindAllStringSubmatch(serial, -1) {
		if n, _ := strconv.ParseInt(m[1], 16, 64); int(n) > best {
			best = int(n)
		}
	}
	return best
}

func beat(d, n int) string { return fmt.Sprintf("(d%d) beat %08x", d, n) }

func TestGuestsRunTogether(t *testing.T) {
	im := Build(t)
	r := Start(t, "guests", Boot{Kernel: im.Grove, Append: "guest=hello guest=heartbeat guest=heartbeat guest=heartbeat"})
	r.Expect("(d1) hello from port 0xe9", 30*time.Second)
	r.Expect("(d1) hello from console_io", 10*time.Second)
	r.Expect("(d1) shut down (poweroff)", 10*time.Second)
	r.Expect(beat(4, 10), 30*time.Second)
	for d := 2; d <= 3; d++ { // they print interleaved: check all advanced
		if n := lastBeat(r.Serial(), d); n < 8 {
			t.Errorf("d%d reached beat %d while d4 reached 10", d, n)
		}
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

func TestCrashesAreIsolated(t *testing.T) {
	im := Build(t)
	r := Start(t, "crash", Boot{Kernel: im.Grove, Append: "guest=heartbeat guest=triple guest=unmapped"})
	r.Expect("(d2) crashed: triple fault at rip=0x", 30*time.Second)
	r.Expect("(d3) crashed: nested page fault at gpa=0xf0000000", 10*time.Second)
	after := lastBeat(r.Serial(), 1)
	r.Expect(beat(1, after+5), 10*time.Second) // the survivor keeps going
	r.Send("list\r")
	r.Expect("crashed", 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

func TestHypercallResults(t *testing.T) {
	im := Build(t)
	r := Start(t, "results", Boot{Kernel: im.Grove, Append: "guest=results guest=cpuid"})
	for _, want := range []string{
		"(d1) badptr fffffff2",  // -EFAULT
		"(d1) unknown ffffffda", // -ENOSYS
		"(d1) domctl ffffffff",  // -EPERM: domU calling domctl
		"(d1) toolong ffffffea", // -EINVAL
		"(d1) shut down (poweroff)",
	} {
		r.Expect(want, 30*time.Second)
	}
	r.Expect("(d2) signature GroveGroveHV", 10*time.Second)
	r.Expect("(d2) svm bit 00000000", 10*time.Second) // SVM hidden from guests
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

func TestHypercallFuzz(t *testing.T) {
	im := Build(t)
	r := Start(t, "fuzz", Boot{Kernel: im.Grove, Append: "guest=fuzz guest=heartbeat", Timeout: 5 * time.Minute})
	r.Expect("(d1) fuzz done", 4*time.Minute) // 100,000 random hypercalls
	r.Expect("(d1) shut down (poweroff)", 10*time.Second)
	r.Expect(beat(2, lastBeat(r.Serial(), 2)+2), 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

func TestPauseStopsHeartbeat(t *testing.T) {
	im := Build(t)
	r := Start(t, "pause", Boot{Kernel: im.Grove, Append: "guest=heartbeat guest=heartbeat"})
	r.Expect(beat(1, 3), 30*time.Second)
	r.Send("pause 1\r")
	r.Expect("paused d1", 10*time.Second)
	frozen, other := lastBeat(r.Serial(), 1), lastBeat(r.Serial(), 2)
	time.Sleep(1500 * time.Millisecond)
	r.Expect(beat(2, other+5), 10*time.Second) // the other domain goes on
	if got := lastBeat(r.Serial(), 1); got != frozen {
		t.Fatalf("paused d1 advanced from %d to %d", frozen, got)
	}
	r.Send("unpause 1\r")
	r.Expect("unpaused d1", 10*time.Second)
	r.Expect(beat(1, frozen+2), 10*time.Second)
	r.Send("unpause 1\r")
	r.Expect("unpause d1: invalid argument (EINVAL)", 10*time.Second) // count already 0
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}
