package hv

import "testing"

func TestIRQOrderAndCoalescing(t *testing.T) {
	var q irqState
	if q.waiting() || q.next() != 0 {
		t.Fatal("fresh state has an interrupt")
	}
	for _, v := range []uint8{0x40, 0xf1, 0x40, 0x20} {
		q.raise(v)
	}
	var got []uint8
	for q.waiting() {
		v := q.next()
		if again := q.next(); again != v {
			t.Fatalf("in-flight vector changed from %#x to %#x before it was taken", v, again)
		}
		q.taken()
		got = append(got, v)
	}
	want := []uint8{0xf1, 0x40, 0x20}
	if len(got) != len(want) {
		t.Fatalf("delivered %#x, want %#x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivered %#x, want %#x", got, want)
		}
	}
	q.raise(0x40)
	if !q.isPending(0x40) || q.isPending(0x41) || q.isPending(0x00) {
		t.Fatal("isPending disagrees with raise")
	}
	q.next()
	if q.isPending(0x40) {
		t.Fatal("a vector in flight still counts as pending")
	}
	q.raise(0x40) // raised again while in flight: delivered once more afterwards
	q.taken()
	if !q.waiting() || q.next() != 0x40 {
		t.Fatal("a vector raised while in flight was lost")
	}
}
