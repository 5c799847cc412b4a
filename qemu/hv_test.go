package qemu

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
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
	r.ExpectAll(30*time.Second, "(d2) crashed: triple fault at rip=0x",
		"(d3) crashed: nested page fault at gpa=0xf0000000")
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
	r.ExpectAll(30*time.Second,
		"(d1) badptr fffffff2",         // -EFAULT
		"(d1) unknown ffffffda",        // -ENOSYS
		"(d1) domctl ffffffff",         // -EPERM: domU calling domctl
		"(d1) domctl-version fffffff3", // -EACCES: version checked first, as in Xen
		"(d1) toolong ffffffea",        // -EINVAL
		"(d1) shut down (poweroff)",
		"(d2) signature GroveGroveHV",
		"(d2) svm bit 00000000", // SVM hidden from guests
		"(d2) shut down (poweroff)",
	)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// Like most tests, the fuzz runs under single-threaded TCG (DefaultAccel):
// with multi-threaded TCG QEMU 7.2 sometimes leaves the host's state in the
// guest's VMCB when exits come this fast (docs/qemu-tcg.md).
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

// settle lets the serial tail catch up with what Expect has seen.
func settle() { time.Sleep(100 * time.Millisecond) }

// The control domain (the ctl guest) pauses d2 through domctl for 1.5 s.
func TestControlDomainPause(t *testing.T) {
	im := Build(t)
	r := Start(t, "dom0", Boot{Kernel: im.Grove, Append: "guest=ctl guest=heartbeat guest=heartbeat guest=heartbeat"})
	r.Expect("(d0) pause 00000000", 30*time.Second)
	t0 := time.Now()
	r.Expect("(d0) flags 00000002", 10*time.Second) // getdomaininfo says paused
	r.Expect("(d0) unpause 00000000", 10*time.Second)
	held := time.Since(t0)
	settle()
	// What the console showed between the pause and the unpause.
	all := r.All()
	during := pauseWindow(all, "(d0) pause 00000000", "(d0) unpause 00000000")
	if strings.Contains(during, "(d2) beat") || held < time.Second {
		t.Fatalf("d2 beat while paused (held %v):\n%s", held, during)
	}
	if n := strings.Count(during, "(d1) beat"); n < 5 {
		t.Fatalf("d1 beat only %d times during d2's pause:\n%s", n, during)
	}
	frozen := lastBeat(all[:strings.Index(all, "(d0) pause 00000000")], 2)
	for _, want := range []string{
		"(d0) unpause-again ffffffea", // EINVAL: count already 0
		"(d0) pause-self ffffffea",    // EINVAL
		"(d0) getinfo-99 fffffffd",    // ESRCH
		"(d0) bad-version fffffff3",   // EACCES
	} {
		r.Expect(want, 10*time.Second)
	}
	r.Expect(beat(2, frozen+3), 10*time.Second) // resumed
	r.Expect(beat(0, 5), 10*time.Second)        // dom0 and three domUs all beat
	r.Expect(beat(3, lastBeat(r.Serial(), 3)+2), 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// Without SVM (-cpu qemu64) Grove says why and keeps running without guests.
func TestNoSVM(t *testing.T) {
	im := Build(t)
	r := Start(t, "nosvm", Boot{Kernel: im.Grove, Append: "guest=heartbeat", CPU: "qemu64"})
	r.Expect("no AMD SVM with nested paging: run QEMU with -cpu max, or enable SVM in firmware", 30*time.Second)
	r.Expect("grove> ", 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// Go guests (the kernel in its guest flavour) under an asm control domain:
// all beat, the paused one stops, a crashing one is reported and the others
// go on.
func TestGoGuests(t *testing.T) {
	im := Build(t)
	hb := im.Heartbeat
	r := Start(t, "goguests", Boot{Kernel: im.Grove, Append: "guest=ctl",
		Initrd: hb + " name=web1," + hb + " name=web2," + hb + " name=db1 crashafter=50"}) // crashes ~5 s in, after the pause window
	r.Expect("(d0) pause 00000000", 30*time.Second)
	r.Expect("(d0) unpause 00000000", 10*time.Second)
	settle()
	all := r.All()
	during := pauseWindow(all, "(d0) pause 00000000", "(d0) unpause 00000000")
	if strings.Contains(during, "(d2) beat") || strings.Count(during, "(d1) beat") < 5 {
		t.Fatalf("during d2's pause:\n%s", during)
	}
	r.Expect("(d3) panic: runtime error: invalid memory address or nil pointer dereference", 30*time.Second)
	r.Expect("(d3) crashed: guest requested crash", 10*time.Second)
	settle()
	one, two := lastBeat(r.All(), 1), lastBeat(r.All(), 2)
	r.ExpectAll(10*time.Second, beat(1, one+5), beat(2, two+5))
	r.Send("list\r")
	r.Expect("db1", 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// The Go control agent as dom0 drives domctl and sysctl: create, unpause,
// pause, unpause, destroy, and the self-pause error.
func TestControlAgent(t *testing.T) {
	im := Build(t)
	r := Start(t, "agent", Boot{Kernel: im.Grove,
		Initrd: im.Agent + " name=dom0 privileged demo," + im.Heartbeat + " name=web1"})
	r.Expect("(d0) agent: physinfo: 2 CPUs", 30*time.Second) // -smp 2
	r.Expect("(d0) agent: createdomain -> d2, ok", 30*time.Second)
	r.Expect("(d0) agent: unpause d2 -> ok", 10*time.Second)
	r.ExpectAll(10*time.Second, "(d2) beat 00000002", "(d0) agent: pause d1 -> ok")
	r.Expect("(d0) agent: unpause d1 -> ok", 10*time.Second)
	r.Expect("(d2) destroyed", 10*time.Second)
	r.Expect("(d0) agent: destroy d2 -> ok", 10*time.Second)
	r.Expect("(d0) agent: pause d0 (self) -> invalid argument (EINVAL)", 10*time.Second)
	r.Expect("(d0) agent: d1 web1 flags=0x1", 10*time.Second)
	r.Expect("(d0) agent: 2 domains, 2 running", 10*time.Second)
	settle()
	if strings.Contains(r.All()[strings.Index(r.All(), "(d2) destroyed"):], "(d2) beat") {
		t.Fatalf("d2 beat after it was destroyed:\n%s", r.Serial())
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// pauseWindow is the console between the line start and the end of the
// pause: the caller's line end, or the hypervisor's first "unpaused" after
// start if that comes earlier (on several CPUs an unpaused domain can print
// before the caller says it unpaused).
func pauseWindow(all, start, end string) string {
	i := strings.Index(all, start)
	j := strings.Index(all, end)
	if k := strings.Index(all[i:], ") unpaused"); k >= 0 && i+k < j {
		j = i + k
	}
	return all[i:j]
}
