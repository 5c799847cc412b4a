package qemu

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"grove/ctl/proto"
	"grove/guests/asm"
)

// Two 1-vCPU members of one group, each a Slices guest printing its breaks;
// the test lays their runs side by side (slices_test.go).

const pairBundle = `
timeslice_ms = %d
[[domain]]
name = "dom0"
image = "guests/agent.elf"
memory_mb = 48
privileged = true
[[domain]]
name = "x"
image = "guests/slices.elf"
memory_mb = 16
affinity = [%s]
[[domain]]
name = "y"
image = "guests/slices.elf"
memory_mb = 16
affinity = [0]
[[domain]]
name = "spin1"
image = "guests/spin.elf"
memory_mb = 16
affinity = [%s]
[[domain]]
name = "spin2"
image = "guests/spin.elf"
memory_mb = 16
affinity = [%s]
`

// pairGroup puts x and y in group 6, opts in those listed, sets policy.
func pairGroup(gang, policy string) string {
	return fmt.Sprintf("[[group]]\nname = \"pair\"\nid = 6\nmembers = [\"x\", \"y\"]\ngang = [%s]\n%s\n", gang, policy)
}

// Slices guests dump their records after a break this long, and tick
// this often.
const (
	dumpMS = 4000
	tickMS = 250
)

// startPair boots the agent, x (d1), y (d2) and two spinners on two CPUs
// with the affinities given (x's, the spinners').
func startPair(t *testing.T, name, affX, affSpin string) (*lineLog, string) {
	im := Build(t)
	grovectl(t)
	files := map[string][]byte{"slices": asmImage(t)(asm.Slices(gapMS, tickMS, dumpMS)), "spin": asmImage(t)(asm.Spin())}
	sock := filepath.Join(t.TempDir(), "grove.sock")
	toml := fmt.Sprintf(pairBundle, sliceMS, affX, affSpin, affSpin)
	l := startCPUs(t, name, Boot{Kernel: im.Grove, Control: sock, Timeout: 3 * time.Minute,
		Initrd: guestBundle(t, im, toml, files)}, 2)
	l.waitFor(t, 0, "(d0) agent: control domain up", 60*time.Second)
	l.wait(t, 0, 2, 30*time.Second, func(s string) bool { return slicesRate.MatchString(s) })
	return l, sock
}

// effect is how long after a grovectl command returns its effect is left
// out of the judged windows: the policy changes at the next slot, a paused
// vCPU is kicked off its CPU at once.
const effect = 300 * time.Millisecond

// dumpRecords pauses x and y (domains 1 and 2) long enough to make them
// dump their records, and waits for each dump's end. A pause that lands
// while a guest prints is not a break to it (it cannot tell the pause
// from the print: "busy"), so a domain that did not dump is paused again,
// up to three times.
func dumpRecords(t *testing.T, l *lineLog, sock string) {
	n := l.len()
	pending := []string{"1", "2"}
	for try := 1; len(pending) > 0; try++ {
		if try > 3 {
			t.Fatalf("domains %v did not dump their records after 3 pauses\nserial tail:\n%s", pending, l.r.tail.String())
		}
		for _, d := range pending {
			ctlOK(t, sock, "pause", d)
		}
		time.Sleep(dumpMS*time.Millisecond + time.Second)
		for _, d := range pending {
			ctlOK(t, sock, "unpause", d)
		}
		for deadline := time.Now().Add(20 * time.Second); len(pending) > 0 && time.Now().Before(deadline); {
			lines := l.since(n)
			pending = slices.DeleteFunc(pending, func(d string) bool {
				return slices.ContainsFunc(lines, func(s string) bool {
					return strings.HasPrefix(s, "(d"+d+") ") && strings.HasSuffix(s, ") end")
				})
			})
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// step is something a test does, then how long it lets the guests run.
type step struct {
	do   func()
	hold time.Duration
}

// phases does each step and returns the window after each in T: from
// effect after it returned to the bound before the next began (the last
// ends when the guests are paused to dump their records). Then it pauses
// x and y (domains 1 and 2) long enough to make them dump, and returns
// the records.
func phases(t *testing.T, l *lineLog, sock string, steps ...step) (sliceLogs, [][2]int64) {
	var from, to []int64
	for _, s := range steps {
		_, before := logsNow(l)
		s.do()
		logs, after := logsNow(l)
		to = append(to, before-logs.ms(boundMS))
		from = append(from, after+logs.ms(effect.Milliseconds()))
		time.Sleep(s.hold)
	}
	_, end := logsNow(l)
	to = append(to[1:], end)
	dumpRecords(t, l, sock)
	logs, _ := logsNow(l)
	w := make([][2]int64, len(from))
	for i := range w {
		w[i] = [2]int64{from[i], to[i]}
	}
	return logs, w
}

// Two 1-vCPU members of a gang group always start together; before the
// policy, and after one opts out, they are seen apart (each is kept on
// CPU 0 by its affinity unless the gang places it, and shares it with the
// two spinners). Pausing one lets the other run alone; unpausing restores
// the gang.
func TestGangPair(t *testing.T) {
	l, sock := startPair(t, "gang-pair", "0", "0")
	const x, y = 1, 2
	hold := 3500 * time.Millisecond
	logs, w := phases(t, l, sock,
		step{func() {}, hold},
		step{func() { ctlOK(t, sock, "apply", writeFile(t, "gang.toml", pairGroup(`"x", "y"`, `policy = "gang"`))) }, hold},
		// Paused just after a tick line, not while printing one: a
		// pause within a print is "busy" to y, and x's starts beside it
		// could not be judged (it happened once in a clean make test).
		step{func() { l.waitFor(t, l.len(), "(d2) tick ", 2*time.Second); ctlOK(t, sock, "pause", "2") }, dumpMS*time.Millisecond - time.Second},
		step{func() { ctlOK(t, sock, "unpause", "2") }, hold},
		step{func() { ctlOK(t, sock, "apply", writeFile(t, "optout.toml", pairGroup(`"x"`, `policy = "gang"`))) }, hold})
	b := logs.ms(boundMS)
	wantApart(t, "none", pairVerdicts(logs, x, y, w[0][0], w[0][1], b))
	wantGang(t, "gang", pairVerdicts(logs, x, y, w[1][0], w[1][1], b))
	p := w[2]
	// The window's start is the host's clock mapped to T from ticks it read
	// late on a loaded host: judge from no earlier than y's own record of
	// being taken off its CPU (its break that covers the window's end).
	// Judge only x's runs that end before y comes back: x's last start
	// before the unpause may run on past it.
	xs := *logs.domains[x]
	if g, ok := logs.domains[y].breakAt(p[1]); ok {
		p[0] = max(p[0], g.from)
		xs.horizon = min(xs.horizon, g.to)
	}
	alone := startsAgainst(&xs, logs.domains[y], p[0], p[1], b)
	ranX, ranY := logs.domains[x].runTime(p[0], p[1]), logs.domains[y].runTime(p[0], p[1])
	t.Logf("y paused: x %v; x ran %.0f%% of the time, y %.0f%%", alone,
		100*float64(ranX)/float64(p[1]-p[0]), 100*float64(ranY)/float64(p[1]-p[0]))
	if alone.together != 0 || alone.alone < 5 || ranX*10 < p[1]-p[0] || ranY > logs.ms(20) {
		t.Errorf("y paused: want x alone at every start and running a tenth of the time or more, y not at all")
	}
	wantGang(t, "gang after unpause", pairVerdicts(logs, x, y, w[3][0], w[3][1], b))
	wantApart(t, "y opted out", pairVerdicts(logs, x, y, w[4][0], w[4][1], b))
	l.halt()
}

// A relaxed group of two 1-vCPU members, one alone on CPU 1, the other
// sharing CPU 0 with two spinners: scheduled independently the first runs
// three times as much and their progress drifts apart by seconds; relaxed
// keeps the drift within the bound (co-stopping the leader) plus what a
// slice's end and QEMU add.
func TestRelaxedSkew(t *testing.T) {
	l, sock := startPair(t, "relaxed-skew", "1", "0")
	const x, y, bound = 1, 2, 100 * time.Millisecond
	relaxed := pairGroup(`"x", "y"`, fmt.Sprintf("policy = \"relaxed\"\nskew = \"%v\"", bound))
	var st proto.GroupStats
	logs, w := phases(t, l, sock,
		step{func() {}, 3500 * time.Millisecond},
		step{func() { ctlOK(t, sock, "apply", writeFile(t, "relaxed.toml", relaxed)) }, 4 * time.Second},
		step{func() { ctlJSON(t, sock, &st, "group", "stats", "6") }, 0})
	none, rel := skewRange(logs, x, y, w[0]), skewRange(logs, x, y, w[1])
	t.Logf("drift of x's run time against y's: %v over %v without a policy, %v over %v relaxed (bound %v); %d co-stops, %v stopped",
		none, time.Duration((w[0][1]-w[0][0])*1e9/logs.perSec), rel, time.Duration((w[1][1]-w[1][0])*1e9/logs.perSec),
		bound, st.CoStops, time.Duration(st.CoStopNS))
	// Without a policy x gains two thirds of the time; relaxed, the bound
	// plus a slice's overrun and QEMU's late timers.
	if none < time.Duration((w[0][1]-w[0][0])*1e9/logs.perSec)/5 || rel > bound+4*sliceMS*time.Millisecond || st.CoStops == 0 {
		t.Errorf("want a drift of a fifth of the time or more without a policy, at most the bound plus four slices relaxed, and co-stops")
	}
	l.halt()
}

// skewRange is how far apart the run times of domains x and y drift in
// window w: the range of (x's run time - y's) since the window's start.
func skewRange(l sliceLogs, x, y int, w [2]int64) time.Duration {
	dx, dy := l.domains[x], l.domains[y]
	lo, hi := int64(0), int64(0)
	for _, d := range []*timeline{dx, dy} {
		for _, s := range d.spans {
			for _, t := range []int64{s.from, s.to} {
				if t > w[0] && t < w[1] {
					v := dx.runTime(w[0], t) - dy.runTime(w[0], t)
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
	}
	return time.Duration((hi - lo) * 1e9 / l.perSec)
}
