package hv

import (
	"fmt"
	"os"
)

// Guest console output: bytes from console_io and port 0xe9 are collected
// per domain and printed a line at a time as "(dN) line".

const maxLine = 256

// consoleBytes appends guest output and flushes complete lines.
func (d *Domain) consoleBytes(b []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range b {
		if c == '\r' {
			continue // a serial console's CR LF ends one line, not two
		}
		if c == '\n' || d.console.Len() >= maxLine {
			d.flushLocked()
			if c == '\n' {
				continue
			}
		}
		if (c < 0x20 && c != '\t') || c == 0x7f {
			c = '.' // keep the host console sane
		}
		d.console.WriteByte(c)
	}
}

// flushLocked prints the pending line. Caller holds d.mu.
func (d *Domain) flushLocked() {
	line := d.console.String()
	fmt.Fprintf(os.Stdout, "(d%d) %s\n", d.ID, line)
	d.lastLines.add(line)
	d.console.Reset()
}

// tailLines is how many console lines a crash report repeats: enough for
// a Linux panic from its "Kernel panic" line to the end of its trace.
const tailLines = 16

// consoleTail keeps a domain's last tailLines console lines: a crash
// report repeats them together, since on a busy console the domain's own
// last words are interleaved with everyone else's.
type consoleTail struct {
	lines [tailLines]string
	next  int // where the next line goes
	n     int // lines kept
}

func (t *consoleTail) add(line string) {
	t.lines[t.next] = line
	t.next = (t.next + 1) % tailLines
	t.n = min(t.n+1, tailLines)
}

// list returns the kept lines, oldest first.
func (t *consoleTail) list() []string {
	out := make([]string, 0, t.n)
	for i := t.n; i > 0; i-- {
		out = append(out, t.lines[(t.next-i+tailLines)%tailLines])
	}
	return out
}

// logf prints a hypervisor message about the domain.
func (d *Domain) logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "(d%d) %s\n", d.ID, fmt.Sprintf(format, args...))
}

// logOnce prints a hypervisor message about the domain the first time key
// is seen, so a guest cannot flood the console with one complaint, for at
// most maxLogged keys (onceLog); list still counts the accesses.
func (d *Domain) logOnce(key, format string, args ...any) {
	d.mu.Lock()
	first, notice := d.logged.note(key)
	d.mu.Unlock()
	switch {
	case notice:
		d.logf("more than %d kinds of unusual access: no more are logged", maxLogged)
	case first:
		d.logf(format, args...)
	}
}

// maxLogged bounds the keys one onceLog logs.
const maxLogged = 64

// onceLog decides which of a domain's complaints get a console line: each
// key once, and no more than maxLogged keys. A guest that pokes every port
// or page would otherwise flood the console and grow the set without
// bound. Its user serialises calls.
type onceLog[K comparable] struct {
	seen map[K]struct{}
	full bool // maxLogged keys were logged and the notice given
}

// note records key: first says to log it, notice that it is the first key
// past the bound, for which to say that no more are logged.
func (o *onceLog[K]) note(key K) (first, notice bool) {
	if _, ok := o.seen[key]; ok || o.full {
		return false, false
	}
	if len(o.seen) == maxLogged {
		o.full = true
		return false, true
	}
	if o.seen == nil {
		o.seen = map[K]struct{}{}
	}
	o.seen[key] = struct{}{}
	return true, false
}
