package config

import (
	"fmt"
	"slices"
	"time"

	"grove/ctl/proto"
)

// checker collects every problem with a file, each prefixed with its name.
type checker struct {
	file string
	errs []error
}

func (k *checker) fail(format string, args ...any) {
	k.errs = append(k.errs, fmt.Errorf(k.file+": "+format, args...))
}

// str checks a required string key; where names the table, e.g. "order[1]".
func (k *checker) str(where, key string, v *string) string {
	switch {
	case v == nil:
		k.fail("%s: %s: missing", where, key)
	case *v == "":
		k.fail("%s: %s: empty", where, key)
	default:
		return *v
	}
	return ""
}

// name checks a group or domain name.
func (k *checker) name(where, key, v string) {
	if v != "" && !nameRE.MatchString(v) {
		k.fail("%s: %s: %q is not a valid name (a-z, 0-9, '-', '_', at most 32)", where, key, v)
	}
}

// oneOf checks an enumerated value.
func (k *checker) oneOf(where, key, v string, allowed ...string) {
	if v != "" && !slices.Contains(allowed, v) {
		k.fail("%s: %s: %q is not one of %v", where, key, v, allowed)
	}
}

func (c *Config) check(r *raw) []error {
	k := &checker{file: c.File}
	owner := map[string]string{} // domain -> group, across groups
	for i := range r.Group {
		c.checkGroup(k, i, &r.Group[i], owner)
	}
	for i, o := range r.Order {
		c.checkOrder(k, i, o)
	}
	for i, re := range r.Reaction {
		c.checkReaction(k, i, re)
	}
	if len(k.errs) == 0 {
		c.checkCycles(k)
	}
	return k.errs
}

func (c *Config) checkGroup(k *checker, i int, rg *rawGroup, owner map[string]string) {
	where := fmt.Sprintf("group[%d]", i)
	g := Group{Name: k.str(where, "name", rg.Name), Members: rg.Members, Gang: rg.Gang}
	k.name(where, "name", g.Name)
	if _, dup := c.Group(g.Name); dup && g.Name != "" {
		k.fail("%s: name: duplicate group %q", where, g.Name)
	}
	if g.Name == proto.NullGroupName {
		k.fail("%s: name: %q is the null group's name", where, g.Name)
	}
	if rg.ID != nil {
		g.ID = *rg.ID
		c.checkID(k, where, g.ID)
	}
	if len(g.Members) == 0 {
		k.fail("%s: members: group %q has no members", where, g.Name)
	}
	for j, m := range g.Members {
		k.name(where, fmt.Sprintf("members[%d]", j), m)
		if slices.Index(g.Members, m) != j {
			k.fail("%s: members[%d]: %q listed twice", where, j, m)
			continue
		}
		if prev, ok := owner[m]; ok {
			k.fail("%s: members[%d]: %q is already a member of group %q", where, j, m, prev)
			continue
		}
		owner[m] = g.Name
	}
	g.Policy, g.Skew = k.policy(where, g.Name, rg.Policy, rg.Skew)
	for j, m := range g.Gang {
		if !slices.Contains(g.Members, m) {
			k.fail("%s: gang[%d]: %q is not a member of group %q", where, j, m, g.Name)
		} else if slices.Index(g.Gang, m) != j {
			k.fail("%s: gang[%d]: %q listed twice", where, j, m)
		}
	}
	c.Groups = append(c.Groups, g)
}

func (c *Config) checkID(k *checker, where string, id int) {
	switch {
	case id == 0:
		k.fail("%s: id: 0 is the null group; leave id out for any free id", where)
	case id < 0 || id > MaxGroupID:
		k.fail("%s: id: %d is out of range 1..%d", where, id, MaxGroupID)
	}
	for _, other := range c.Groups {
		if id != 0 && other.ID == id {
			k.fail("%s: id: %d is also the id of group %q", where, id, other.Name)
		}
	}
}

func (c *Config) checkOrder(k *checker, i int, ro rawOrder) {
	where := fmt.Sprintf("order[%d]", i)
	o := Order{Group: k.str(where, "group", ro.Group), First: k.str(where, "first", ro.First), Then: k.str(where, "then", ro.Then)}
	c.Orders = append(c.Orders, o)
	if o.Group == "" {
		return
	}
	g, ok := c.Group(o.Group)
	if !ok {
		k.fail("%s: group: no group %q", where, o.Group)
		return
	}
	for _, kv := range [][2]string{{"first", o.First}, {"then", o.Then}} {
		if kv[1] != "" && !slices.Contains(g.Members, kv[1]) {
			k.fail("%s: %s: %q is not a member of group %q", where, kv[0], kv[1], g.Name)
		}
	}
}

func (c *Config) checkReaction(k *checker, i int, rr rawReaction) {
	where := fmt.Sprintf("reaction[%d]", i)
	re := Reaction{On: k.str(where, "on", rr.On), Group: k.str(where, "group", rr.Group), Do: k.str(where, "do", rr.Do)}
	k.oneOf(where, "on", re.On, OnCrashed, OnShutdown)
	k.oneOf(where, "do", re.Do, DoPauseGroup, DoDestroyGroup, DoDestroyDomain, DoNothing)
	if _, ok := c.Group(re.Group); re.Group != "" && !ok {
		k.fail("%s: group: no group %q", where, re.Group)
	}
	c.Reactions = append(c.Reactions, re)
}

// policy checks a group's policy and skew keys: skew only with relaxed,
// which defaults it.
func (k *checker) policy(where, group string, p, skew *string) (string, time.Duration) {
	name := proto.PolicyNone
	if p != nil {
		name = *p
		if _, ok := proto.PolicyNumber(name); !ok {
			k.fail("%s: policy: %q is not one of none, gang, relaxed (group %q)", where, name, group)
		}
	}
	if skew == nil {
		if name == proto.PolicyRelaxed {
			return name, proto.DefaultSkew
		}
		return name, 0
	}
	if name != proto.PolicyRelaxed {
		k.fail("%s: skew: only for policy \"relaxed\" (group %q has policy %q)", where, group, name)
		return name, 0
	}
	d, err := time.ParseDuration(*skew)
	switch {
	case err != nil:
		k.fail("%s: skew: %q is not a duration like \"30ms\" (group %q)", where, *skew, group)
	case d < proto.MinSkew || d > proto.MaxSkew:
		k.fail("%s: skew: %v is out of range %v..%v (group %q)", where, d, proto.MinSkew, proto.MaxSkew, group)
	}
	return name, d
}
