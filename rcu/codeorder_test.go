package rcu

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// codeOrderSection is the read-side section TestReadSideCodeOrder
// disassembles.
//
//go:noinline
func codeOrderSection(r *Reader, p *Pointer[ring]) int {
	r.Lock()
	v := p.Load(r).next[1] // codeOrderSection: the protected load
	r.Unlock()
	return v
}

// TestReadSideCodeOrder checks, in this package's machine code, what
// doc.go's "Ordering" relies on the compiler for: on the expedited fast
// path the plain entry store to the slot comes before the atomic load of
// the protected pointer, that load before the load through it, and the
// plain exit store after both. The fast path is followed from the entry by
// falling through every conditional jump and taking every unconditional
// one, which is how gc lays it out today; a compiler that lays it out
// otherwise fails here, and the order must then be checked again by hand.
func TestReadSideCodeOrder(t *testing.T) {
	if !plainStores {
		t.Skip("this build stores to slots only with atomics")
	}
	var p Pointer[ring]
	p.Store(newRing())
	if got := codeOrderSection(New(1).Reader(0), &p); got != 18 {
		t.Fatalf("codeOrderSection read %d, want next[1] = 18", got)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to disassemble with")
	}
	// go test strips the binary it runs, so disassemble a fresh one.
	exe := filepath.Join(t.TempDir(), "rcu.test")
	if out, err := exec.Command(goTool, "test", "-c", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	out, err := exec.Command(goTool, "tool", "objdump", "-s", `^grove/rcu\.codeOrderSection$`, exe).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool objdump: %v\n%s", err, out)
	}
	path := fastPath(t, parseObjdump(string(out)))
	at := func(what, file, marker string, store bool) int {
		t.Helper()
		line := lineOf(t, file, marker)
		for i, in := range path {
			if in.pos == fmt.Sprintf("%s:%d", filepath.Base(file), line) && in.store() == store {
				return i
			}
		}
		t.Fatalf("no %s (%s:%d) on the fast path:\n%s", what, filepath.Base(file), line, dump(path))
		return 0
	}
	order := []int{
		at("entry store", "rcu.go", "r.ctr = gp", true),
		at("pointer load", goroot(t, goTool)+"/src/sync/atomic/type.go", "func (x *Pointer[T]) Load() *T", false),
		at("protected load", "codeorder_test.go", "// codeOrderSection: the protected load", false),
		at("exit store", "rcu.go", "r.ctr = 0", true),
	}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Fatalf("fast path out of order (entry store, pointer load, protected load, exit store at %v):\n%s", order, dump(path))
		}
	}
}

type insn struct {
	pos, addr, asm string
}

// store reports whether in writes memory with a plain MOV.
func (in insn) store() bool {
	return strings.HasPrefix(in.asm, "MOV") && strings.HasSuffix(in.asm, ")")
}

func parseObjdump(out string) (insns []insn) {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || f[0] == "TEXT" {
			continue
		}
		insns = append(insns, insn{pos: f[0], addr: f[1], asm: strings.Join(f[3:], " ")})
	}
	return insns
}

// fastPath walks from the first instruction, falling through conditional
// jumps and taking unconditional ones, until RET.
func fastPath(t *testing.T, insns []insn) []insn {
	at := map[string]int{}
	for i, in := range insns {
		at[in.addr] = i
	}
	var path []insn
	for i := 0; i < len(insns) && len(path) < 200; i++ {
		in := insns[i]
		path = append(path, in)
		switch op, arg, _ := strings.Cut(in.asm, " "); {
		case op == "RET":
			return path
		case op == "JMP":
			j, ok := at[arg]
			if !ok {
				t.Fatalf("jump out of the function: %s", in.asm)
			}
			i = j - 1
		}
	}
	t.Fatalf("no RET on the fast path:\n%s", dump(path))
	return nil
}

func dump(path []insn) string {
	var b strings.Builder
	for _, in := range path {
		fmt.Fprintf(&b, "\t%-24s %s\n", in.pos, in.asm)
	}
	return b.String()
}

// lineOf is the line number of the first line of file containing marker;
// for a func declaration, its body's one statement: on that line or the
// next.
func lineOf(t *testing.T, file, marker string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		if strings.Contains(s.Text(), marker) {
			if strings.HasPrefix(marker, "func ") && !strings.Contains(s.Text(), "return") {
				return n + 1
			}
			return n
		}
	}
	t.Fatalf("%s: no line contains %q", file, marker)
	return 0
}

func goroot(t *testing.T, goTool string) string {
	out, err := exec.Command(goTool, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}
