package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParse: Parse must not panic, and for every config it accepts,
// PauseOrder must be a permutation of each group's members that obeys
// every rule.
func FuzzParse(f *testing.F) {
	if ex, err := os.ReadFile(filepath.Join("..", "..", "examples", "groups.toml")); err == nil {
		f.Add(ex)
	}
	f.Add([]byte(rules("a", "b", "b", "c")))
	f.Add([]byte(rules("a", "b", "b", "a")))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.toml", data)
		if err != nil {
			return
		}
		for _, g := range c.Groups {
			checkOrder(t, c, g)
		}
	})
}

func checkOrder(t *testing.T, c *Config, g Group) {
	order := c.PauseOrder(g.Name)
	if len(order) != len(g.Members) {
		t.Fatalf("group %q: order %v, members %v", g.Name, order, g.Members)
	}
	for _, m := range g.Members {
		if !slices.Contains(order, m) {
			t.Fatalf("group %q: %q missing from %v", g.Name, m, order)
		}
	}
	for _, o := range c.Orders {
		if o.Group == g.Name && slices.Index(order, o.First) > slices.Index(order, o.Then) {
			t.Fatalf("group %q: %v breaks %s -> %s", g.Name, order, o.First, o.Then)
		}
	}
}
