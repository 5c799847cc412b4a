package qemu

import (
	"strings"
	"testing"
)

// Host tests of make bench's report: no QEMU needed.

func TestRowMet(t *testing.T) {
	for _, tc := range []struct {
		value, base float64
		target      target
		want        string
	}{
		{3, 0, target{}, "-"},
		{3, 2, target{}, "-"},
		{999, 0, below(1000, 3), "yes"},
		{1000, 0, below(1000, 3), "no"},
		{5, 0, atMost(5, 12), "yes"},
		{5.01, 0, atMost(5, 12), "no"},
		{3, 2, onRatio(atMost(1.5, 12)), "yes"},
		{3.1, 2, onRatio(atMost(1.5, 12)), "no"},
		{8, 2, onRatio(atLeast(4, 6)), "yes"},
		{7, 2, onRatio(atLeast(4, 6)), "no"},
		{1, 0, onRatio(atMost(2, 12)), "no"}, // no baseline: not shown met
	} {
		r := &row{value: tc.value, target: tc.target}
		if tc.base != 0 {
			r.vs("base", tc.base)
		}
		name := strings.ReplaceAll(num(tc.value)+" vs "+num(tc.base)+" "+tc.target.String(), " ", "_")
		t.Run(name, func(t *testing.T) {
			if got := r.met(); got != tc.want {
				t.Errorf("met() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.1734, "0.173"}, {1.979, "1.98"}, {21.34, "21.3"}, {463.42, "463"}, {12345.6, "12346"}, {-2.5, "-2.50"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := num(tc.v); got != tc.want {
				t.Errorf("num(%v) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
}

func TestQuantity(t *testing.T) {
	for _, tc := range []struct {
		v          float64
		unit, want string
	}{
		{9999, "ns", "9999 ns"}, {35553, "ns", "35.6 µs"}, {12951, "µs", "13.0 ms"}, {2.5e7, "µs", "25.0 s"},
		{12345, "KiB", "12345 KiB"}, {2.5e10, "ms", "25000000 s"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := quantity(tc.v, tc.unit); got != tc.want {
				t.Errorf("quantity(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
			}
		})
	}
}

func TestMetricUnit(t *testing.T) {
	for _, tc := range []struct{ unit, figure, want string }{
		{"ms", "list round trip", "ms-list-round-trip"},
		{"/s", "dom0 idle exits", "per-s-dom0-idle-exits"},
		{"work/s", "CPU-bound mix under gang, 2 CPUs", "work-per-s-CPU-bound-mix-under-gang-2-CPUs"},
		{"s", "two guests' work on 1 CPU", "s-two-guests-work-on-1-CPU"},
		{"µs", "CPUID exit, Grove", "us-CPUID-exit-Grove"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := metricUnit(tc.unit, tc.figure); got != tc.want {
				t.Errorf("metricUnit(%q, %q) = %q, want %q", tc.unit, tc.figure, got, tc.want)
			}
		})
	}
}

const hostBenchOutput = `goos: linux
goarch: amd64
pkg: grove/rcu
cpu: AMD EPYC
BenchmarkReadSide/dep-load-2         	 8915403	         2.287 ns/op	         1.979 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkReadSide/dep-rcu-2          	 5858967	         3.581 ns/op	         2.647 cpu-ns/op	       0 B/op	       0 allocs/op
--- BENCH: BenchmarkReadSide/targets-2
    bench_test.go:241: read side, 2 readers on 2 CPUs
BenchmarkSynchronize/membarrier/readers=8-2    	    5641	      5063 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	grove/rcu	0.522s
pkg: grove/domgrp
BenchmarkPauseGroup/members=512-2       	      36	    627127 ns/op	      1225 ns/member	    5465 B/op	       6 allocs/op
BenchmarkSnapshotRead-2                          	  712584	        36.58 ns/op	       0 B/op	       0 allocs/op
`

func TestParseHostBench(t *testing.T) {
	m, err := parseHostBench(strings.NewReader(hostBenchOutput))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, unit string
		want       float64
	}{
		{"rcu/ReadSide/dep-load", "cpu-ns/op", 1.979},
		{"rcu/ReadSide/dep-rcu", "ns/op", 3.581},
		{"rcu/Synchronize/membarrier/readers=8", "ns/op", 5063},
		{"domgrp/PauseGroup/members=512", "ns/member", 1225},
		{"domgrp/SnapshotRead", "ns/op", 36.58},
	} {
		t.Run(tc.name+"_"+tc.unit, func(t *testing.T) {
			if got, ok := m[tc.name][tc.unit]; !ok || got != tc.want {
				t.Errorf("%s %s = %v (present %v), want %v", tc.name, tc.unit, got, ok, tc.want)
			}
		})
	}
	if len(m) != 5 {
		t.Errorf("parsed %d benchmarks, want 5: %v", len(m), m)
	}
}
