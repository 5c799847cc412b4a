package kcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// diag is one compiler message: file:line:col: text.
var diag = regexp.MustCompile(`^(.+\.go):(\d+):\d+: (.*)$`)

// constant matches escape reports about constants, which the compiler puts
// in read-only data instead of allocating: "string" literals, numbers, and
// conversions of either to a named type (bootError("..."), Errno(22)).
var constant = regexp.MustCompile(`^([\w.]+\()?("([^"\\]|\\.)*"|-?[0-9][0-9a-fA-Fx_]*)\)? escapes to heap$`)

// allocates reports whether a -m=1 message says something goes on the heap.
func allocates(msg string) bool {
	if strings.HasPrefix(msg, "moved to heap: ") {
		return true
	}
	return strings.HasSuffix(msg, " escapes to heap") && !constant.MatchString(msg)
}

// escapes compiles the package with escape-analysis output and reports each
// heap allocation inside a marked function that no Allow entry covers.
func escapes(cfg Config, p *pkg) ([]Problem, error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	_, out, err := goCmd(cfg, dir, "build", "-tags", cfg.Tags, "-gcflags=-m=1", "-o", "/dev/null", ".")
	if err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	var probs []Problem
	seen := map[string]bool{} // the compiler repeats messages for inlined code
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := diag.FindStringSubmatch(sc.Text())
		if m == nil || !allocates(m[3]) || seen[sc.Text()] {
			continue
		}
		seen[sc.Text()] = true
		file := m[1]
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		line, _ := strconv.Atoi(m[2])
		f := p.enclosing(file, line)
		if f == nil || !f.Marked || allowed(cfg.Allow, f.Name, m[3]) {
			continue
		}
		probs = append(probs, Problem{fmt.Sprintf("%s:%d", file, line),
			fmt.Sprintf("%s allocates in kernel context: %s", f.Name, m[3])})
	}
	return probs, sc.Err()
}

// enclosing returns the function declared around file:line.
func (p *pkg) enclosing(file string, line int) *Func {
	for _, f := range p.funcs {
		if f.File == file && f.Line <= line && line <= f.End {
			return f
		}
	}
	return nil
}

func allowed(allow []Allow, fn, msg string) bool {
	for _, a := range allow {
		if a.Func == fn && strings.Contains(msg, a.Expr) {
			return true
		}
	}
	return false
}
