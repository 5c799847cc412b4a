package kcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePkg writes a one-package module whose entry point is trap.
func fakePkg(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module fake\n\ngo 1.26\n",
		"k.go":   "package fake\n\n" + src,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		allow []Allow
		want  []string // substrings of the problems, in order; none = pass
	}{
		{"marked-allocates", `
var sink *int

// Kernel context.
func trap() { sink = new(int) }
`, nil, []string{"k.go:7: trap allocates in kernel context: new(int) escapes to heap"}},
		{"marked-moves-to-heap", `
var sink *int

// Kernel context.
func trap() { x := 1; sink = &x }
`, nil, []string{"trap allocates in kernel context: moved to heap: x"}},
		{"marked-clean", `
var table [4]int

// Kernel context.
func trap() { table[1]++ }
`, nil, nil},
		{"constant-to-interface", `
type kerr string

func (e kerr) Error() string { return string(e) }

var sink error

// Kernel context.
func trap() { sink = kerr("constant") }
`, nil, []string{"(kerr).Error runs in kernel context (trap → (kerr).Error)"}},
		{"allow-listed", `
var sink *int

// Kernel context.
func trap() { sink = new(int) }
`, []Allow{{Func: "trap", Expr: "new(int)", Why: "test"}}, nil},
		{"unmarked-callee", `
// Kernel context.
func trap() { helper() }

func helper() {}
`, nil, []string{"helper runs in kernel context (trap → helper) but its doc does not say so"}},
		{"through-table", `
var table = [1]func(){ handler }

// Boot path.
func trap() { table[0]() }

func handler() {}
`, nil, []string{"handler runs in kernel context (trap → handler)"}},
		{"through-interface", `
type reader interface{ read() int }
type mem struct{}

func (mem) read() int { return 0 }

// Kernel context.
func trap(r reader) int { return r.read() }
`, nil, []string{"(mem).read runs in kernel context (trap → (mem).read)"}},
		{"built-type", `
type kerr struct{}

func (kerr) Error() string { return "" }
func (kerr) Extra() string { return "" }

// Kernel context.
func trap() string { var e error = kerr{}; return e.Error() }
`, nil, []string{"(kerr).Error runs in kernel context (trap → (kerr).Error)"}},
		{"unmarked-root", `
func trap() {}
`, nil, []string{"trap runs in kernel context (trap)"}},
		{"thread-context-may-allocate", `
var sink *int

// Kernel context.
func trap() {}

func Thread() { sink = new(int) }
`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Check(Config{Dir: fakePkg(t, tt.src), Roots: []string{"trap"}, Allow: tt.allow})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) != len(tt.want) {
				t.Fatalf("problems %v, want %d matching %q", res.Problems, len(tt.want), tt.want)
			}
			for i, p := range res.Problems {
				if !strings.Contains(p.String(), tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p, tt.want[i])
				}
			}
		})
	}
}

func TestMarker(t *testing.T) {
	for _, tt := range []struct {
		line string
		want bool
	}{
		{"Kernel context.", true},
		{"Kernel context, BKL held.", true},
		{"Boot path.", true},
		{"Boot path (before the runtime).", true},
		{"kernel context.", false},
		{"It runs in kernel context.", false},
		{"Kernel contexts", false},
	} {
		t.Run(tt.line, func(t *testing.T) {
			if got := Marker.MatchString(tt.line); got != tt.want {
				t.Errorf("Marker(%q) = %v, want %v", tt.line, got, tt.want)
			}
		})
	}
}
