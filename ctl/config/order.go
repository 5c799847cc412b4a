package config

import (
	"slices"
	"strings"
)

// graph is one group's ordering rules: an edge first -> then for each
// rule, kept in rule order (duplicates dropped) so every walk of it is
// deterministic.
type graph struct {
	members []string
	index   map[string]int // member -> position in the list
	next    map[string][]string
}

func (c *Config) graph(g *Group) *graph {
	gr := &graph{members: g.Members, index: map[string]int{}, next: map[string][]string{}}
	for i, m := range g.Members {
		gr.index[m] = i
	}
	for _, o := range c.Orders {
		if o.Group == g.Name && !slices.Contains(gr.next[o.First], o.Then) {
			gr.next[o.First] = append(gr.next[o.First], o.Then)
		}
	}
	return gr
}

// RuleOrder returns the members named in the group's ordering rules, in a
// topological order of the rules that breaks ties by member list order:
// the pause order grovectl hands the hypervisor, which pauses the members
// it does not name after them, in join order. It returns nil for an
// unknown group or one without rules.
func (c *Config) RuleOrder(group string) []string {
	g, ok := c.Group(group)
	if !ok {
		return nil
	}
	gr := c.graph(g)
	return gr.topo(gr.constrained())
}

// PauseOrder is the whole pause order the config describes: RuleOrder,
// then the unconstrained members in list order (the join order apply
// gives them). It returns nil for an unknown group.
func (c *Config) PauseOrder(group string) []string {
	g, ok := c.Group(group)
	if !ok {
		return nil
	}
	order := c.RuleOrder(group)
	for _, m := range g.Members {
		if !slices.Contains(order, m) {
			order = append(order, m)
		}
	}
	return order
}

// UnpauseOrder is PauseOrder reversed.
func (c *Config) UnpauseOrder(group string) []string {
	order := c.PauseOrder(group)
	slices.Reverse(order)
	return order
}

// constrained returns the members named in any rule, in list order.
func (gr *graph) constrained() []string {
	in := map[string]bool{}
	for first, thens := range gr.next {
		in[first] = true
		for _, t := range thens {
			in[t] = true
		}
	}
	var out []string
	for _, m := range gr.members {
		if in[m] {
			out = append(out, m)
		}
	}
	return out
}

// topo is Kahn's algorithm over nodes, always taking the ready node that
// comes first in the member list. Nodes left on a cycle (only possible for
// an unchecked config) are dropped; PauseOrder appends them in list order.
func (gr *graph) topo(nodes []string) []string {
	indeg := map[string]int{}
	for _, n := range nodes {
		for _, t := range gr.next[n] {
			indeg[t]++
		}
	}
	var order []string
	done := map[string]bool{}
	for len(order) < len(nodes) {
		i := slices.IndexFunc(nodes, func(n string) bool { return !done[n] && indeg[n] == 0 })
		if i < 0 {
			break
		}
		n := nodes[i]
		done[n] = true
		order = append(order, n)
		for _, t := range gr.next[n] {
			indeg[t]--
		}
	}
	return order
}

// cycle returns one cycle of the rules as "a -> b -> a", starting at its
// member that comes first in the list, or "" if there is none.
func (gr *graph) cycle() string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var path []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		path = append(path, n)
		for _, t := range gr.next[n] {
			if color[t] == grey {
				found = slices.Clone(path[slices.Index(path, t):])
				return true
			}
			if color[t] == white && visit(t) {
				return true
			}
		}
		path = path[:len(path)-1]
		color[n] = black
		return false
	}
	for _, m := range gr.members {
		if color[m] == white && visit(m) {
			return gr.spell(found)
		}
	}
	return ""
}

// spell rotates a cycle to start at its first-listed member and closes it.
func (gr *graph) spell(cyc []string) string {
	start := 0
	for i, n := range cyc {
		if gr.index[n] < gr.index[cyc[start]] {
			start = i
		}
	}
	rot := append(slices.Clone(cyc[start:]), cyc[:start]...)
	return strings.Join(append(rot, rot[0]), " -> ")
}

// checkCycles refuses ordering rules that no order satisfies.
func (c *Config) checkCycles(k *checker) {
	for i := range c.Groups {
		g := &c.Groups[i]
		if cyc := c.graph(g).cycle(); cyc != "" {
			k.fail("ordering rules for group %q form a cycle: %s", g.Name, cyc)
		}
	}
}
