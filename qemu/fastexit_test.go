package qemu

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestFastExitsBesideHeartbeat: a guest looping on CPUID and null
// hypercalls (exits the fast path keeps inside the VMRUN loop) shares one
// CPU with a heartbeat sleeping 100 ms between beats. The slice's end must
// still take the loop off the CPU: the heartbeat keeps its rate, and the
// loop's exits are all counted.
func TestFastExitsBesideHeartbeat(t *testing.T) {
	im := Build(t)
	r := Start(t, "fastexit", Boot{Kernel: im.Grove, Append: "guest=exitloop guest=heartbeat",
		Args: []string{"-smp", "1"}})
	r.Expect("(d1) exit loop", 30*time.Second)
	r.Expect(beat(2, 5), 30*time.Second)
	start := time.Now()
	r.Expect(beat(2, 25), 30*time.Second)
	if d := time.Since(start); d > 15*time.Second { // starved, the loop would never give the CPU back
		t.Errorf("20 beats of 100 ms took %v beside the exit loop", d)
	}
	r.Send("list\r")
	out := r.Expect("d2 ", 10*time.Second)
	out += r.Expect("unmodelled", 10*time.Second)
	m := regexp.MustCompile(`d1 +exitloop .* exits=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no exit count for d1 in:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 10_000 {
		t.Errorf("d1 made %d exits in over 2 s of looping on them", n)
	}
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}
