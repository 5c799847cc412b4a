package qemu

import (
	"fmt"
	"testing"
	"time"
)

// The Slices reports' reading on made-up lines (no QEMU needed).

// slicesLines are two domains on a clock of 1000 T a second, reporting up
// to 100: d1 runs [0,10] [20,30] [40,50] and from 90; d2 runs [0,15]
// [30,50] (printing in [42,44]) and from 90.
var slicesLines = []string{
	"(d1) slices: T/s 000003e8",
	"grove> (d2) slices: T/s 000003e8", // the prompt may share the line
	"(d1) tick 00000005",
	"(d1) dump 00000064",
	"(d1) gap 0000000a 00000014",
	"(d1) gap 0000001e 00000028",
	"(d1) gap 00000032 0000005a",
	"(d1) end",
	"(d2) dump 00000064",
	"(d2) gap 00000032 0000005a",
	"(d2) busy 0000002a 0000002c",
	"(d2) gap 0000000f 0000001e",
	"(d2) end",
}

func TestParseSlices(t *testing.T) {
	l := parseSlices(slicesLines, make([]time.Time, len(slicesLines)))
	if l.perSec != 1000 || len(l.domains) != 2 || len(l.ticks) != 1 {
		t.Fatalf("perSec %d, %d domains, %d ticks", l.perSec, len(l.domains), len(l.ticks))
	}
	d1, d2 := l.domains[1], l.domains[2]
	want := []span{{15, 30, false}, {42, 44, true}, {50, 90, false}} // sorted
	if d1.horizon != 100 || len(d1.spans) != 3 || fmt.Sprint(d2.spans) != fmt.Sprint(want) {
		t.Fatalf("d1 %+v, d2 %+v; want d2's spans %v", d1, d2, want)
	}
}

func TestRan(t *testing.T) {
	d2 := parseSlices(slicesLines, make([]time.Time, len(slicesLines))).domains[2]
	for _, tc := range []struct {
		a, b int64
		want bool
	}{
		{0, 4, true}, {16, 29, false}, {16, 31, true}, {41, 43, true}, {42, 44, false}, {45, 49, true}, {51, 89, false},
	} {
		t.Run(fmt.Sprintf("%d-%d", tc.a, tc.b), func(t *testing.T) {
			if got := d2.ran(tc.a, tc.b); got != tc.want {
				t.Errorf("ran(%d, %d) = %v", tc.a, tc.b, got)
			}
		})
	}
}

func TestStartsAgainst(t *testing.T) {
	l := parseSlices(slicesLines, make([]time.Time, len(slicesLines)))
	for _, tc := range []struct {
		name     string
		x, y     int
		bound    int64
		from, to int64
		want     verdicts
	}{
		// d1's run [20,30] ends as d2's begins: alone; [40,50] meets d2;
		// the run from 90 has no end yet.
		{"d1 against d2", 1, 2, 5, 0, 100, verdicts{2, 1, 1}},
		// d2's run from 30 ends where its print begins (42), meeting d1 at 40.
		{"d2 against d1", 2, 1, 5, 0, 100, verdicts{1, 1, 0}},
		{"d1 from 25", 1, 2, 5, 25, 100, verdicts{1, 1, 0}},
		{"d1 runs shorter than the bound", 1, 2, 20, 0, 100, verdicts{2, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := startsAgainst(l.domains[tc.x], l.domains[tc.y], tc.from, tc.to, tc.bound); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Apart: d1 runs [0,10] [20,30]; d3 runs [12,18] [32,40].
	lines := []string{"(d1) slices: T/s 000003e8", "(d1) dump 00000064", "(d1) gap 0000000a 00000014",
		"(d1) gap 0000001e 00000050", "(d3) dump 00000064", "(d3) gap 00000000 0000000c",
		"(d3) gap 00000012 00000020", "(d3) gap 00000028 00000050"}
	l = parseSlices(lines, make([]time.Time, len(lines)))
	if got := startsAgainst(l.domains[1], l.domains[3], 0, 100, 5); got != (verdicts{1, 0, 1}) {
		t.Errorf("apart: got %v, want one start, alone", got)
	}
}

func TestClock(t *testing.T) {
	t0 := time.Now()
	l := sliceLogs{perSec: 1000, ticks: []seenAt{{100, t0}, {300, t0.Add(150 * time.Millisecond)}, {700, t0.Add(time.Second)}}}
	// The host read the 300 tick 150 ms after the 100 one: at most 50 T
	// late, so at t0+1s the T is at least 300+850.
	if got := l.clock(t0.Add(time.Second)); got != 1150 {
		t.Errorf("clock = %d, want 1150", got)
	}
}

func TestSkewRange(t *testing.T) {
	// x runs all the time; y runs [0,10], breaks [10,40], runs [40,50].
	lines := []string{"(d1) slices: T/s 000003e8", "(d1) dump 00000064", "(d2) dump 00000064",
		"(d2) gap 0000000a 00000028"}
	l := parseSlices(lines, make([]time.Time, len(lines)))
	l.domains[1].spans = []span{{60, 61, false}} // a point to sample at
	if got := skewRange(l, 1, 2, [2]int64{0, 50}); got != 30*time.Millisecond {
		t.Errorf("skewRange = %v, want 30ms", got)
	}
}

func TestBreakAt(t *testing.T) {
	d2 := parseSlices(slicesLines, make([]time.Time, len(slicesLines))).domains[2]
	for _, tc := range []struct {
		at   int64
		want span
		ok   bool
	}{
		{20, span{15, 30, false}, true}, {60, span{50, 90, false}, true}, {43, span{}, false}, {10, span{}, false},
	} {
		t.Run(fmt.Sprint(tc.at), func(t *testing.T) {
			if got, ok := d2.breakAt(tc.at); got != tc.want || ok != tc.ok {
				t.Errorf("breakAt(%d) = %v, %v; want %v, %v", tc.at, got, ok, tc.want, tc.ok)
			}
		})
	}
}
