// Package kcheck checks the kernel-context contract (kernel/doc.go): every
// function that runs in kernel context or on the boot path says so in one
// line of its doc comment, and none of them allocates on the Go heap.
//
// It checks what a build can show. The functions reached from the entry
// points (trap, bootMain, apMain; svm's runGuest) by calls, function values
// and tables of them must carry the marker; over interface calls it assumes
// any method of the package with that name, and for a package-local type
// built in reached code (T{...} or T(x)) that any of its methods may run.
// Then escape analysis (go build -gcflags=-m=1) must report no heap
// allocation inside a marked function, except for entries on an allow-list
// that says why. Constants converted to interfaces are not allocations: the
// compiler places them in read-only data. Code in other packages and
// assembly are outside the check.
package kcheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"strings"
)

// Marker is how a marked function's doc comment starts one of its lines.
var Marker = regexp.MustCompile(`^(Kernel context|Boot path)\b`)

// Config names a package to check in one build flavour.
type Config struct {
	Dir   string   // the package's directory
	Tags  string   // build tags (go build -tags)
	Env   []string // extra environment, e.g. GOOS=linux GOARCH=amd64
	Roots []string // entry points in kernel context, by Func.Name
	Allow []Allow
}

// Allow exempts one escape-analysis report: in function Func, a message
// containing Expr. Why is required and printed with -list.
type Allow struct {
	Func, Expr, Why string
}

// Func is one function declaration of the checked package.
type Func struct {
	Name       string // "trap", "(*physAlloc).alloc"
	File       string // absolute path
	Line, End  int    // the declaration's first and last lines
	Marked     bool
	HasBody    bool   // false for functions written in assembly
	ReachedVia string // the call path from a root, "" if not reached
}

// Problem is one broken rule, positioned like a compiler message.
type Problem struct {
	Pos string // file:line
	Msg string
}

func (p Problem) String() string { return p.Pos + ": " + p.Msg }

// Result is what Check found.
type Result struct {
	Pkg      string
	Funcs    []*Func // in declaration order, file by file
	Problems []Problem
}

// Check loads, type-checks and compiles the package of cfg.Dir and returns
// its functions and every broken rule.
func Check(cfg Config) (*Result, error) {
	p, err := load(cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{Pkg: p.path, Funcs: p.funcs}
	res.Problems = append(res.Problems, p.reach(cfg.Roots)...)
	esc, err := escapes(cfg, p)
	if err != nil {
		return nil, err
	}
	res.Problems = append(res.Problems, esc...)
	return res, nil
}

// funcName names a declaration the way Problems and Allow do.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	star := ""
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = "*", s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	id, _ := t.(*ast.Ident)
	if id == nil {
		return d.Name.Name
	}
	return fmt.Sprintf("(%s%s).%s", star, id.Name, d.Name.Name)
}

// marked reports whether a doc comment has a line starting with Marker.
func marked(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, l := range strings.Split(doc.Text(), "\n") {
		if Marker.MatchString(l) {
			return true
		}
	}
	return false
}

func newFunc(fset *token.FileSet, d *ast.FuncDecl) *Func {
	start, end := fset.Position(d.Pos()), fset.Position(d.End())
	return &Func{
		Name: funcName(d), File: start.Filename, Line: start.Line, End: end.Line,
		Marked: marked(d.Doc), HasBody: d.Body != nil,
	}
}
