package qemu

import (
	"strings"
	"testing"
)

// Since gives what came after a mark even once the 64 KiB window has slid
// past the mark's place in All, and never reaches back before it.
func TestSince(t *testing.T) {
	r := &Run{tail: &tail{}}
	r.tail.Write([]byte(strings.Repeat("x", 60<<10)))
	m := r.Mark()
	r.tail.Write([]byte("after\r\n"))
	if got := r.Since(m); got != "after\n" {
		t.Fatalf("Since = %q, want %q", got, "after\n")
	}
	r.tail.Write([]byte(strings.Repeat("y", 10<<10)))
	if got := r.Since(m); !strings.HasPrefix(got, "after\n") || len(got) != len("after\n")+10<<10 {
		t.Errorf("after the window slid: Since starts %q, has %d bytes", got[:min(10, len(got))], len(got))
	}
	m2 := r.Mark()
	r.tail.Write([]byte(strings.Repeat("z", 70<<10)))
	if got := r.Since(m2); len(got) != 64<<10 || strings.ContainsAny(got, "xy") {
		t.Errorf("past the window: %d bytes, want the 64 KiB window of z", len(got))
	}
}
