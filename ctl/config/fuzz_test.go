package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"grove/ctl/proto"
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
	f.Add([]byte(rules() + "policy = \"relaxed\"\nskew = \"2.5ms\"\ngang = [\"a\", \"b\"]\n"))
	f.Add([]byte(rules() + "policy = \"gang\"\nskew = \"1e3h\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.toml", data)
		if err != nil {
			return
		}
		for _, g := range c.Groups {
			checkOrder(t, c, g)
			checkPolicy(t, g)
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

// checkPolicy: an accepted group's policy and bound are what the
// hypervisor would accept.
func checkPolicy(t *testing.T, g Group) {
	if err := proto.CheckPolicy(g.Policy, g.Skew); err != nil {
		t.Fatalf("group %q: accepted %q/%v: %v", g.Name, g.Policy, g.Skew, err)
	}
}
