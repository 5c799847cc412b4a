package main

import (
	"fmt"
	"slices"
	"strings"

	"grove/ctl/proto"
)

// groupPause pauses (or unpauses) g with one group op, which the
// hypervisor carries out all or nothing and counts as one group pause.
// When the config has ordering rules for g, the op carries the pause
// order they give (pauseOrder): the hypervisor pauses those members in
// it, then the others in join order, and unpauses in reverse.
func (a *app) groupPause(g group, pause bool) error {
	op, verb := proto.OpGroupPause, "paused"
	if !pause {
		op, verb = proto.OpGroupUnpause, "unpaused"
	}
	args := proto.PauseArgs{Group: g.id}
	var walk []string
	if g.cfg != nil && a.cfg.HasOrder(g.cfg.Name) {
		var err error
		if args.Order, walk, err = a.pauseOrder(g); err != nil {
			return err
		}
	}
	var n proto.Count
	if err := a.call(op, args, &n); err != nil {
		return fmt.Errorf("%s: %w", g, err)
	}
	if walk == nil {
		fmt.Fprintf(a.stdout, "%s: %s (%d members)\n", g, verb, n.Count)
		return nil
	}
	if !pause {
		slices.Reverse(walk)
	}
	fmt.Fprintf(a.stdout, "%s: %s (%d members) in order %s\n", g, verb, n.Count, strings.Join(walk, " "))
	return nil
}

// pauseOrder is the pause order of config group g: the ids of the members
// its ordering rules name, in the rules' order, and, for the record, the
// whole walk the hypervisor will make (those, then the other members in
// join order; dom0, which group pauses skip, left out). A config member
// that is not in the group now is reported and left out: pausing a domain
// outside the group is not what "pause the group" means.
func (a *app) pauseOrder(g group) ([]int, []string, error) {
	info, err := a.groupInfo(g)
	if err != nil {
		return nil, nil, err
	}
	doms, err := a.listDomains() // every member; info lists the first 16
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", g, err)
	}
	byName := map[string]int{}
	for _, d := range doms {
		if d.Group == g.id {
			byName[d.Name] = d.ID
		}
	}
	var order []int
	for _, name := range a.cfg.RuleOrder(g.cfg.Name) {
		id, ok := byName[name]
		if !ok {
			fmt.Fprintf(a.stderr, "grovectl: %s: %s is not a member now, skipped\n", g, name)
			continue
		}
		order = append(order, id)
	}
	names := a.memberNames(info)
	var walk []string
	for _, id := range append(slices.Clone(order), info.Members...) {
		if m := memberText(id, names[id]); id != 0 && !slices.Contains(walk, m) {
			walk = append(walk, m)
		}
	}
	return order, walk, nil
}

// memberNames maps the members of info to their names: from the agent's
// member details, else from list.
func (a *app) memberNames(info proto.GroupInfo) map[int]string {
	names := map[int]string{}
	for _, m := range info.MemberInfo {
		names[m.ID] = m.Name
	}
	for _, id := range info.Members {
		if names[id] == "" {
			names[id] = a.byID(id).name
		}
	}
	return names
}

// memberText is a member as lists print it: "web1(1)", or "7" unnamed.
func memberText(id int, name string) string {
	if name == "" {
		return fmt.Sprint(id)
	}
	return fmt.Sprintf("%s(%d)", name, id)
}
