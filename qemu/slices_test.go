package qemu

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Reading the Slices guests' reports (guests/asm/gang.go): the T in a
// second, ticks, and dumps of the breaks in each guest's run, in T (the TSC
// shifted right, low 32 bits: one clock for every domain). Laid side by
// side, two domains' breaks tell when each ran.

var (
	slicesRate = regexp.MustCompile(`\(d(\d+)\) slices: T/s ([0-9a-f]{8})`)
	slicesTick = regexp.MustCompile(`\(d(\d+)\) (tick|dump) ([0-9a-f]{8})`)
	slicesSpan = regexp.MustCompile(`\(d(\d+)\) (gap|busy) ([0-9a-f]{8}) ([0-9a-f]{8})`)
)

// span is a time a domain did not run (a break: from its last loop step
// before to its first after) or in which its run is unknown (busy: it was
// printing, in the hypervisor), in T.
type span struct {
	from, to int64
	busy     bool
}

// timeline is what one domain reported: its spans in time order, and how
// far its reports go (its last dump began then).
type timeline struct {
	spans   []span
	horizon int64
}

// sliceLogs are the timelines of every Slices domain, by domain id.
type sliceLogs struct {
	perSec  int64 // T per second
	domains map[int]*timeline
	ticks   []seenAt
}

// seenAt is a tick and when the host read its line.
type seenAt struct {
	t  int64
	at time.Time
}

// parseSlices reads the reports in lines (times: when each came). The
// 32-bit T values are unwrapped against the first one seen: a test lasts
// far less than the 2^31 T (minutes) that would make that ambiguous.
func parseSlices(lines []string, times []time.Time) sliceLogs {
	l := sliceLogs{domains: map[int]*timeline{}}
	var ref uint32
	first := true
	t := func(hex string) int64 {
		v, _ := strconv.ParseUint(hex, 16, 32)
		if first {
			ref, first = uint32(v), false
		}
		return int64(ref) + int64(int32(uint32(v)-ref))
	}
	dom := func(id string) *timeline {
		d, _ := strconv.Atoi(id)
		if l.domains[d] == nil {
			l.domains[d] = &timeline{}
		}
		return l.domains[d]
	}
	for i, s := range lines {
		if m := slicesRate.FindStringSubmatch(s); m != nil {
			v, _ := strconv.ParseUint(m[2], 16, 32)
			l.perSec = int64(v)
		} else if m := slicesTick.FindStringSubmatch(s); m != nil && m[2] == "tick" {
			l.ticks = append(l.ticks, seenAt{t(m[3]), times[i]})
		} else if m != nil {
			dom(m[1]).horizon = t(m[3])
		} else if m := slicesSpan.FindStringSubmatch(s); m != nil {
			d := dom(m[1])
			d.spans = append(d.spans, span{t(m[3]), t(m[4]), m[2] == "busy"})
		}
	}
	for _, d := range l.domains {
		sort.Slice(d.spans, func(i, j int) bool { return d.spans[i].from < d.spans[j].from })
	}
	return l
}

// clock estimates the T at host time w from the ticks of the two seconds
// before it (or any, if none): a guest prints a tick at once and the host
// reads it a little later, so each bounds the offset between the clocks
// from below, and the tightest bound wins (error: a line's delay,
// milliseconds; the TSC rate's error does not add up over two seconds).
func (l sliceLogs) clock(w time.Time) int64 {
	var off int64
	ok := false
	for _, recent := range []bool{true, false} {
		for _, b := range l.ticks {
			d := w.Sub(b.at)
			if recent && (d < 0 || d > 2*time.Second) {
				continue
			}
			if o := b.t + int64(d.Seconds()*float64(l.perSec)); !ok || o > off {
				off, ok = o, true
			}
		}
		if ok {
			break
		}
	}
	return off
}

// logsNow parses everything l has read, and the T now.
func logsNow(l *lineLog) (sliceLogs, int64) {
	logs := parseSlices(l.timed())
	return logs, logs.clock(time.Now())
}

// ms converts milliseconds to T.
func (l sliceLogs) ms(ms int64) int64 { return ms * l.perSec / 1000 }

// verdicts count slice starts by what the other domain did.
type verdicts struct{ starts, together, alone int }

func (v verdicts) add(o verdicts) verdicts {
	return verdicts{v.starts + o.starts, v.together + o.together, v.alone + o.alone}
}

func (v verdicts) String() string {
	return fmt.Sprintf("%d slice starts: %d together, %d alone, %d undecided", v.starts, v.together, v.alone,
		v.starts-v.together-v.alone)
}

// ran reports whether the domain ran at some moment of [a, b]: some of it
// is outside every span (b within its reports).
func (d *timeline) ran(a, b int64) bool {
	at := a
	for _, s := range d.spans {
		if s.to < at || s.from > b {
			continue
		}
		if s.from > at {
			return true
		}
		at = max(at, s.to)
	}
	return at < b
}

// breakAt returns the break (a span that is not busy) that covers t.
func (d *timeline) breakAt(t int64) (span, bool) {
	for _, s := range d.spans {
		if !s.busy && s.from <= t && s.to >= t {
			return s, true
		}
	}
	return span{}, false
}

// busyIn reports whether the domain's run is unknown somewhere in [a, b].
func (d *timeline) busyIn(a, b int64) bool {
	for _, s := range d.spans {
		if s.busy && s.from <= b && s.to >= a {
			return true
		}
	}
	return false
}

// runEnd is when the run begun at s (a break's end) stops or becomes
// unknown: the next span's start, or the horizon.
func (d *timeline) runEnd(s int64) int64 {
	for _, sp := range d.spans {
		if sp.from >= s {
			return sp.from
		}
	}
	return d.horizon
}

// startsAgainst judges x's slice starts in [from, to): together if y ran at
// some moment of the run that follows, alone if that run lasted at least
// bound and y neither ran nor printed in it, else undecided. Only runs that
// both domains' reports cover are judged.
func startsAgainst(x, y *timeline, from, to, bound int64) verdicts {
	var v verdicts
	if x == nil || y == nil {
		return v
	}
	for _, s := range x.spans {
		st := s.to
		end := x.runEnd(st)
		if s.busy || st < from || st >= to || end >= x.horizon || end > y.horizon {
			continue
		}
		v.starts++
		switch {
		case y.ran(st, end):
			v.together++
		case end-st >= bound && !y.busyIn(st, end):
			v.alone++
		}
	}
	return v
}

// pairVerdicts judges both domains' starts against each other's runs.
func pairVerdicts(l sliceLogs, x, y int, from, to, bound int64) verdicts {
	return startsAgainst(l.domains[x], l.domains[y], from, to, bound).add(
		startsAgainst(l.domains[y], l.domains[x], from, to, bound))
}

// runTime is how long the domain ran in [a, b] as far as it knows (b within
// its reports; busy spans do not count).
func (d *timeline) runTime(a, b int64) int64 {
	t := b - a
	for _, s := range d.spans {
		t -= max(0, min(s.to, b)-max(s.from, a))
	}
	return t
}
