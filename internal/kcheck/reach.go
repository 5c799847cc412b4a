package kcheck

import (
	"fmt"
	"go/ast"
	"go/types"
)

// reach walks from the roots through the package and reports every reached
// function with a body that is not marked.
func (p *pkg) reach(roots []string) []Problem {
	var probs []Problem
	var queue []*types.Func
	via := map[*types.Func]string{}
	visit := func(fn *types.Func, path string) {
		fn = fn.Origin()
		if _, seen := via[fn]; seen || p.decls[fn] == nil {
			return
		}
		via[fn] = path
		queue = append(queue, fn)
	}
	for _, r := range roots {
		fn := p.find(r)
		if fn == nil {
			probs = append(probs, Problem{p.path, fmt.Sprintf("root %s: no such function", r)})
			continue
		}
		visit(fn, r)
	}
	for len(queue) > 0 {
		fn := queue[0]
		queue = queue[1:]
		f := p.byObj[fn]
		f.ReachedVia = via[fn]
		if f.HasBody && !f.Marked {
			probs = append(probs, Problem{fmt.Sprintf("%s:%d", f.File, f.Line),
				fmt.Sprintf("%s runs in kernel context (%s) but its doc does not say so", f.Name, f.ReachedVia)})
		}
		for _, callee := range p.callees(p.decls[fn], map[types.Object]bool{}) {
			visit(callee, via[fn]+" → "+p.byObj[callee.Origin()].nameOr(callee))
		}
	}
	return probs
}

func (f *Func) nameOr(fn *types.Func) string {
	if f != nil {
		return f.Name
	}
	return fn.Name()
}

// find returns the declared function called name (as Func.Name spells it).
func (p *pkg) find(name string) *types.Func {
	for obj, f := range p.byObj {
		if f.Name == name {
			return obj
		}
	}
	return nil
}

// callees lists what n may call: functions it names (called or taken as
// values), the functions in package variables it reads (tables of handlers),
// every same-named method for a call through an interface, and every method
// of a package type it builds. seen stops recursion through variables.
func (p *pkg) callees(n ast.Node, seen map[types.Object]bool) []*types.Func {
	var out []*types.Func
	ast.Inspect(n, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Ident:
			out = append(out, p.uses(x, seen)...)
		case *ast.CompositeLit:
			out = append(out, p.methodsOf(p.info.Types[x].Type)...)
		case *ast.CallExpr:
			if tv := p.info.Types[x.Fun]; tv.IsType() {
				out = append(out, p.methodsOf(tv.Type)...)
			}
		}
		return true
	})
	return out
}

func (p *pkg) uses(id *ast.Ident, seen map[types.Object]bool) []*types.Func {
	switch obj := p.info.Uses[id].(type) {
	case *types.Func:
		recv := obj.Type().(*types.Signature).Recv()
		if recv != nil && types.IsInterface(recv.Type()) {
			return p.methodsNamed(obj.Name())
		}
		return []*types.Func{obj}
	case *types.Var:
		if obj.Pkg() != p.types || obj.Parent() != p.types.Scope() || seen[obj] {
			return nil
		}
		seen[obj] = true
		return p.varInit(obj, seen)
	}
	return nil
}

// varInit lists the functions a package variable's initializer names.
func (p *pkg) varInit(v *types.Var, seen map[types.Object]bool) []*types.Func {
	var out []*types.Func
	for _, f := range p.files {
		for _, d := range f.Decls {
			ast.Inspect(d, func(n ast.Node) bool {
				vs, ok := n.(*ast.ValueSpec)
				if !ok {
					return true
				}
				for _, name := range vs.Names {
					if p.info.Defs[name] == v {
						for _, val := range vs.Values {
							out = append(out, p.callees(val, seen)...)
						}
					}
				}
				return false
			})
		}
	}
	return out
}

func (p *pkg) methodsNamed(name string) []*types.Func {
	var out []*types.Func
	for obj := range p.decls {
		if obj.Name() == name && obj.Type().(*types.Signature).Recv() != nil {
			out = append(out, obj)
		}
	}
	return out
}

// methodsOf lists the methods of a package-local named type (or pointer)
// that implement an interface method: a value built in reached code may be
// handed to code that calls them through that interface.
func (p *pkg) methodsOf(t types.Type) []*types.Func {
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	named, ok := t.(*types.Named)
	if !ok || named.Obj().Pkg() != p.types {
		return nil
	}
	named = named.Origin()
	var out []*types.Func
	for _, iface := range p.interfaces() {
		if !types.Implements(named, iface) && !types.Implements(types.NewPointer(named), iface) {
			continue
		}
		for i := range named.NumMethods() {
			m := named.Method(i)
			if obj, _, _ := types.LookupFieldOrMethod(iface, false, nil, m.Name()); obj != nil {
				out = append(out, m)
			}
		}
	}
	return out
}

// interfaces lists the interfaces with methods the package can name: its
// own, its imports' and error.
func (p *pkg) interfaces() []*types.Interface {
	if p.ifaces != nil {
		return p.ifaces
	}
	p.ifaces = []*types.Interface{types.Universe.Lookup("error").Type().Underlying().(*types.Interface)}
	scopes := []*types.Scope{p.types.Scope()}
	for _, imp := range p.types.Imports() {
		scopes = append(scopes, imp.Scope())
	}
	for _, sc := range scopes {
		for _, name := range sc.Names() {
			tn, ok := sc.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			if it, ok := tn.Type().Underlying().(*types.Interface); ok && it.NumMethods() > 0 && it.IsMethodSet() {
				p.ifaces = append(p.ifaces, it)
			}
		}
	}
	return p.ifaces
}
