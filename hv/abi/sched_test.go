package abi

import (
	"bytes"
	"reflect"
	"testing"
)

func TestGroupSchedLayout(t *testing.T) {
	g := GroupArgs{Op: GroupGetInfo, Info: GroupInfo{Sched: GroupSched{Policy: PolicyRelaxed, Gang: 0x8001, SkewUS: 30000}}}
	u := make([]byte, UnionSize)
	g.Encode(u)
	if u[64] != PolicyRelaxed || u[66] != 0x01 || u[67] != 0x80 || u[68] != 0x30 || u[69] != 0x75 {
		t.Fatalf("sched field: % x", u[64:72])
	}
	if got, _ := DecodeGroup(u); got != g {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestGroupStatsLayout(t *testing.T) {
	s := GroupStats{Policy: PolicyGang, GangTurns: 1, SkewSamples: 2, SkewP50: 3, SkewP99: 4, SkewMax: 5,
		CoStops: 6, CoStopNS: 7, LostSlices: 8,
		VCPUs: []VCPUStats{{Domain: 3, VCPU: 1, AloneNS: 9, TogetherNS: 10}}}
	b := s.Encode()
	if len(b) != GroupStatsSize {
		t.Fatalf("size %d", len(b))
	}
	for off, want := range map[int]byte{0: 1, 4: 1, 8: 1, 16: 2, 24: 3, 32: 4, 40: 5, 48: 6, 56: 7, 64: 8,
		72: 3, 74: 1, 80: 9, 88: 10} {
		if b[off] != want {
			t.Errorf("byte %d = %d, want %d", off, b[off], want)
		}
	}
	got, ok := DecodeGroupStats(b)
	if !ok || !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip: %+v", got)
	}
	b[4] = StatsVCPUs + 1
	if _, ok := DecodeGroupStats(b); ok {
		t.Fatal("more entries than the buffer holds accepted")
	}
}

func FuzzDecodeGroupStats(f *testing.F) {
	f.Add(GroupStats{VCPUs: []VCPUStats{{1, 2, 3, 4}}}.Encode())
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, ok := DecodeGroupStats(b)
		if !ok {
			return
		}
		again, ok := DecodeGroupStats(s.Encode())
		if !ok || !reflect.DeepEqual(again, s) {
			t.Fatal("stats do not round trip")
		}
		if !bytes.Equal(s.Encode()[:8], b[:8]) {
			t.Fatal("header changed")
		}
	})
}
