package hv

import (
	"fmt"
	"slices"
	"strings"
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

// logOnce prints each key once and stops, saying so, at maxLogged keys.
func TestLogOnceBounded(t *testing.T) {
	d := &Domain{}
	out := captureStdout(t, func() {
		for i := range maxLogged + 10 {
			d.logOnce(fmt.Sprint(i), "key %d", i)
			d.logOnce(fmt.Sprint(i), "key %d again", i)
		}
	})
	if n := strings.Count(out, "\n"); n != maxLogged+1 {
		t.Errorf("%d lines, want %d (one per key, then the notice):\n%s", n, maxLogged+1, out)
	}
	if !strings.Contains(out, "no more are logged") || strings.Contains(out, "again") || len(d.logged.seen) != maxLogged {
		t.Errorf("notice missing, a key printed twice, or %d keys kept:\n%s", len(d.logged.seen), out)
	}
}
