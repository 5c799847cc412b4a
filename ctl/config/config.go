// Package config reads grovectl's group configuration (docs/grovectl.md):
// which domains form which groups, each group's scheduling policy and the
// members opted into it, the
// ordering rules for pausing a group member by member, and the reactions
// to events.
//
// config is pure data and checks: it never talks to the agent. Names are
// domain names as the agent's list reports them; ids are resolved by
// grovectl at run time.
package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"grove/internal/strictoml"
)

// MaxGroupID is the largest fixed group id: the hypervisor's group table
// has 256 entries and 0 is the null group (docs/groups.md).
const MaxGroupID = 255

// Reaction triggers and actions.
const (
	OnCrashed  = "crashed"
	OnShutdown = "shutdown"

	DoPauseGroup    = "pause-group"
	DoDestroyGroup  = "destroy-group"
	DoDestroyDomain = "destroy-domain"
	DoNothing       = "nothing"
)

// Config is a checked groups file.
type Config struct {
	File      string // base name, for messages
	Groups    []Group
	Orders    []Order
	Reactions []Reaction
}

// Group is one [[group]] table.
type Group struct {
	Name    string
	ID      int           // 0 = any free id
	Members []string      // in join order
	Gang    []string      // members opted into the group's scheduling policy
	Policy  string        // none (default), gang or relaxed (ctl/proto)
	Skew    time.Duration // relaxed's bound (default proto.DefaultSkew), else 0
}

// Order is one [[order]] rule: pause First before Then, unpause Then
// before First.
type Order struct {
	Group, First, Then string
}

// Reaction is one [[reaction]]: when a member of Group sends event On, do
// Do.
type Reaction struct {
	On, Group, Do string
}

// raw is the file as written; pointers tell a missing key from a zero.
type raw struct {
	Group    []rawGroup    `toml:"group"`
	Order    []rawOrder    `toml:"order"`
	Reaction []rawReaction `toml:"reaction"`
}

type rawGroup struct {
	Name    *string  `toml:"name"`
	ID      *int     `toml:"id"`
	Members []string `toml:"members"`
	Gang    []string `toml:"gang"`
	Policy  *string  `toml:"policy"`
	Skew    *string  `toml:"skew"`
}

type rawOrder struct {
	Group *string `toml:"group"`
	First *string `toml:"first"`
	Then  *string `toml:"then"`
}

type rawReaction struct {
	On    *string `toml:"on"`
	Group *string `toml:"group"`
	Do    *string `toml:"do"`
}

// Load reads and checks the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(filepath.Base(path), data)
}

// Parse checks data, naming it name in errors. Every problem found is
// reported (errors.Join), each line starting with name.
func Parse(name string, data []byte) (*Config, error) {
	var r raw
	if err := strictoml.Decode(name, data, &r); err != nil {
		return nil, err
	}
	c := &Config{File: name}
	if errs := c.check(&r); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Group returns the group called name.
func (c *Config) Group(name string) (*Group, bool) {
	i := slices.IndexFunc(c.Groups, func(g Group) bool { return g.Name == name })
	if i < 0 {
		return nil, false
	}
	return &c.Groups[i], true
}

// GroupOf returns the group that lists domain as a member.
func (c *Config) GroupOf(domain string) (*Group, bool) {
	for i := range c.Groups {
		if slices.Contains(c.Groups[i].Members, domain) {
			return &c.Groups[i], true
		}
	}
	return nil, false
}

// HasOrder reports whether any ordering rule applies to the group.
func (c *Config) HasOrder(group string) bool {
	return slices.ContainsFunc(c.Orders, func(o Order) bool { return o.Group == group })
}

// ReactionsTo returns the reactions to event kind on in group, in file
// order.
func (c *Config) ReactionsTo(on, group string) []Reaction {
	var out []Reaction
	for _, r := range c.Reactions {
		if r.On == on && r.Group == group {
			out = append(out, r)
		}
	}
	return out
}

// InGang reports whether domain is opted into gang scheduling.
func (g *Group) InGang(domain string) bool { return slices.Contains(g.Gang, domain) }
