package hv

import (
	"fmt"
	"slices"
	"testing"
)

// The console tail keeps the last tailLines lines, oldest first.
func TestConsoleTail(t *testing.T) {
	var c consoleTail
	if got := c.list(); len(got) != 0 {
		t.Fatalf("empty tail lists %q", got)
	}
	var all []string
	for i := range tailLines + 3 {
		line := fmt.Sprintf("line %d", i)
		c.add(line)
		all = append(all, line)
		want := all[max(0, len(all)-tailLines):]
		if got := c.list(); !slices.Equal(got, want) {
			t.Fatalf("after %d lines: %q, want %q", i+1, got, want)
		}
	}
}
