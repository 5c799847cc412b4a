package main

import (
	"errors"
	"fmt"
	"strconv"

	"grove/ctl/config"
	"grove/ctl/proto"
	"grove/errno"
)

// listDomains fetches the domain list once per invocation (or per event).
// A failure is kept too, so naming many domains after a timeout costs one
// timeout, not one each.
func (a *app) listDomains() ([]proto.DomainInfo, error) {
	if a.domains == nil && a.listErr == nil {
		var l proto.DomainList
		if err := a.call(proto.OpList, nil, &l); err != nil {
			a.listErr = named("list", err)
			return nil, a.listErr
		}
		a.domains = l.Domains
		if a.domains == nil {
			a.domains = []proto.DomainInfo{}
		}
	}
	return a.domains, a.listErr
}

// forgetDomains makes the next lookup fetch the list again.
func (a *app) forgetDomains() { a.domains, a.listErr = nil, nil }

// domain is a resolved domain argument.
type domain struct {
	id   int
	name string // "" when given by id and not looked up
}

func (d domain) String() string {
	if d.name == "" {
		return fmt.Sprintf("domain %d", d.id)
	}
	return fmt.Sprintf("domain %s (%d)", d.name, d.id)
}

// resolveDomain takes an id or a name; names are looked up in the list.
func (a *app) resolveDomain(arg string) (domain, error) {
	if id, err := strconv.Atoi(arg); err == nil {
		if id < 0 || id > 0xffff {
			return domain{}, usagef("domain %s: ids are 0..65535", arg)
		}
		return domain{id: id}, nil
	}
	doms, err := a.listDomains()
	if err != nil {
		return domain{}, fmt.Errorf("domain %q: %w", arg, err)
	}
	for _, d := range doms {
		if d.Name == arg {
			return domain{id: d.ID, name: d.Name}, nil
		}
	}
	return domain{}, fmt.Errorf("domain %q: %w", arg, errno.ESRCH)
}

// byID names domain id when the list knows it. A failed list only costs
// the name: the id is still right.
func (a *app) byID(id int) domain {
	doms, _ := a.listDomains()
	for _, d := range doms {
		if d.ID == id {
			return domain{id: id, name: d.Name}
		}
	}
	return domain{id: id}
}

// nameOf returns the name of domain id, or its number.
func (a *app) nameOf(id int) string {
	if d := a.byID(id); d.name != "" {
		return d.name
	}
	return strconv.Itoa(id)
}

// group is a resolved group argument: its id, its name when known (the
// hypervisor's, or the config's) and, when the config names it, its
// config entry.
type group struct {
	id   int
	name string
	cfg  *config.Group
}

func (g group) String() string {
	switch {
	case g.name != "":
		return fmt.Sprintf("group %s (%d)", g.name, g.id)
	case g.cfg != nil:
		return fmt.Sprintf("group %s (%d)", g.cfg.Name, g.id)
	}
	return fmt.Sprintf("group %d", g.id)
}

// resolveGroup takes an id or a name. Names are the hypervisor's (group
// create --name, apply); with --config, a config group the agent knows by
// no name is found by its fixed id or its members.
func (a *app) resolveGroup(arg string) (group, error) {
	cfg, err := a.config()
	if err != nil {
		return group{}, err
	}
	if id, err := strconv.Atoi(arg); err == nil {
		if id < 0 || id > config.MaxGroupID {
			return group{}, usagef("group %s: ids are 0..%d", arg, config.MaxGroupID)
		}
		return group{id: id, cfg: a.configGroupByID(cfg, id)}, nil
	}
	var info proto.GroupInfo
	err = a.call(proto.OpGroupInfo, proto.GroupArgs{Name: arg}, &info)
	var cg *config.Group
	if cfg != nil {
		cg, _ = cfg.Group(arg)
	}
	switch {
	case err == nil:
		return group{id: info.ID, name: info.Name, cfg: cg}, nil
	case !errors.Is(err, errno.ESRCH) || cg == nil:
		return group{}, fmt.Errorf("group %q: %w", arg, err)
	}
	id, err := a.groupID(cfg, cg)
	if err != nil {
		return group{}, fmt.Errorf("group %q: %w", arg, err)
	}
	if id == 0 {
		return group{}, fmt.Errorf("group %s: not created yet (grovectl apply): %w", arg, errno.ESRCH)
	}
	return group{id: id, cfg: cg}, nil
}

// groupID finds a config group on the agent: its fixed id, or else the
// group that holds its first member already in a group (not one another
// config group claims by id). 0 means not found.
func (a *app) groupID(cfg *config.Config, cg *config.Group) (int, error) {
	if cg.ID != 0 {
		return cg.ID, nil
	}
	doms, err := a.listDomains()
	if err != nil {
		return 0, err
	}
	for _, m := range cg.Members {
		for _, d := range doms {
			if d.Name == m && d.Group != 0 && !claimed(cfg, d.Group) {
				return d.Group, nil
			}
		}
	}
	return 0, nil
}

func claimed(cfg *config.Config, id int) bool {
	for _, g := range cfg.Groups {
		if g.ID == id {
			return true
		}
	}
	return false
}

// configGroupByID returns the config group that resolves to id, if any:
// the one named as the hypervisor names the group, or for an unnamed group
// the one its fixed id or members point to.
func (a *app) configGroupByID(cfg *config.Config, id int) *config.Group {
	if cfg == nil || id == 0 {
		return nil
	}
	var info proto.GroupInfo
	if a.call(proto.OpGroupInfo, proto.GroupArgs{Group: id}, &info) == nil && info.Name != "" {
		cg, _ := cfg.Group(info.Name)
		return cg
	}
	for i := range cfg.Groups {
		if got, err := a.groupID(cfg, &cfg.Groups[i]); err == nil && got == id {
			return &cfg.Groups[i]
		}
	}
	return nil
}
