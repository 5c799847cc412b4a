package main

import (
	"fmt"
	"testing"
)

func TestTogether(t *testing.T) {
	for _, tc := range []struct {
		before, after []uint64
		self          int
		gap, limit    uint64
		want          bool
	}{
		{[]uint64{5, 7}, []uint64{9, 8}, 0, 10, 100, true},          // the other advanced, no gap
		{[]uint64{5, 7}, []uint64{9, 7}, 0, 10, 100, false},         // the other stood still
		{[]uint64{5, 7}, []uint64{9, 8}, 0, 101, 100, false},        // this one was descheduled
		{[]uint64{5, 7}, []uint64{9, 8}, 0, 100, 100, true},         // gap exactly at the limit
		{[]uint64{5, 7}, []uint64{5, 9}, 1, 10, 100, false},         // only self advanced
		{[]uint64{5, 7, 3}, []uint64{5, 9, 4}, 1, 10, 100, true},    // a third worker advanced
		{[]uint64{5}, []uint64{6}, 0, 0, 100, false},                // one vCPU: never
		{[]uint64{5, 7}, []uint64{9, 8}, 0, ^uint64(0), 100, false}, // TSC went back
	} {
		name := fmt.Sprintf("self%d/%v->%v/gap%d/limit%d", tc.self, tc.before, tc.after, tc.gap, tc.limit)
		t.Run(name, func(t *testing.T) {
			if got := together(tc.before, tc.after, tc.self, tc.gap, tc.limit); got != tc.want {
				t.Fatalf("together = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWorkSuffix(t *testing.T) {
	for _, tc := range []struct {
		last, now []uint64
		both      bool
		want      string
	}{
		{[]uint64{0, 0}, []uint64{1234, 1180}, true, " vcpus=2 work=1234,1180 together=yes"},
		{[]uint64{100, 200}, []uint64{150, 200}, false, " vcpus=2 work=50,0 together=no"},
		{[]uint64{7}, []uint64{10}, false, " vcpus=1 work=3 together=no"},
	} {
		t.Run(fmt.Sprintf("%v->%v/%v", tc.last, tc.now, tc.both), func(t *testing.T) {
			if got := workSuffix(tc.last, tc.now, tc.both); got != tc.want {
				t.Fatalf("workSuffix = %q, want %q", got, tc.want)
			}
		})
	}
}

// The suffix keeps the beat line parseable the way qemu/hv_test.go does.
func TestBeatLinePrefix(t *testing.T) {
	line := fmt.Sprintf("beat %08x%s", 10, workSuffix([]uint64{0, 0}, []uint64{1, 2}, true))
	var n int
	if _, err := fmt.Sscanf(line, "beat %08x", &n); err != nil || n != 10 {
		t.Fatalf("%q: beat %d, %v", line, n, err)
	}
}
