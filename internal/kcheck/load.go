package kcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// pkg is the checked package, parsed and type-checked.
type pkg struct {
	path  string
	fset  *token.FileSet
	files []*ast.File
	types *types.Package
	info  *types.Info
	funcs []*Func
	decls map[*types.Func]*ast.FuncDecl
	byObj map[*types.Func]*Func

	ifaces []*types.Interface // interfaces(), computed once
}

type listed struct {
	ImportPath, Dir, Export string
	GoFiles                 []string
	Error                   *struct{ Err string }
}

// goCmd runs the go command in dir with cfg's environment.
func goCmd(cfg Config, dir string, args ...string) ([]byte, []byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), cfg.Env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// load lists the package and its dependencies' export data (go list
// -export compiles them), then parses and type-checks the package.
func load(cfg Config) (*pkg, error) {
	out, stderr, err := goCmd(cfg, cfg.Dir, "list", "-export", "-deps", "-json", "-tags", cfg.Tags, ".")
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr)
	}
	exports := map[string]string{}
	var self listed
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var l listed
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if l.Error != nil {
			return nil, fmt.Errorf("%s: %s", l.ImportPath, l.Error.Err)
		}
		exports[l.ImportPath] = l.Export
		self = l // -deps lists the named package last
	}
	return typecheck(self, exports)
}

func typecheck(self listed, exports map[string]string) (*pkg, error) {
	p := &pkg{path: self.ImportPath, fset: token.NewFileSet(),
		decls: map[*types.Func]*ast.FuncDecl{}, byObj: map[*types.Func]*Func{}}
	for _, name := range self.GoFiles {
		f, err := parser.ParseFile(p.fset, filepath.Join(self.Dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		p.files = append(p.files, f)
	}
	lookup := func(path string) (io.ReadCloser, error) {
		if e := exports[path]; e != "" {
			return os.Open(e)
		}
		return nil, fmt.Errorf("no export data for %s", path)
	}
	conf := types.Config{Importer: importer.ForCompiler(p.fset, "gc", lookup),
		Sizes: types.SizesFor("gc", "amd64")}
	p.info = &types.Info{Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{},
		Types: map[ast.Expr]types.TypeAndValue{}}
	var err error
	if p.types, err = conf.Check(p.path, p.fset, p.files, p.info); err != nil {
		return nil, err
	}
	for _, f := range p.files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				fn := newFunc(p.fset, fd)
				p.funcs = append(p.funcs, fn)
				if obj, ok := p.info.Defs[fd.Name].(*types.Func); ok {
					p.decls[obj], p.byObj[obj] = fd, fn
				}
			}
		}
	}
	return p, nil
}
