package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"grove/ctl/config"
	"grove/ctl/proto"
	"grove/errno"
)

func (a *app) applyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "apply CONFIG",
		Short: "Create the config's groups, join their members, set gang flags and policies",
		Long: "apply makes the groups of CONFIG exist with their members, gang flags and scheduling policies. " +
			"It is idempotent: existing groups are reused and members already in place are left alone.",
		Args: exactArgs(1),
		RunE: runE(func(args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				return err
			}
			a.cfg = cfg
			return a.apply(cfg)
		}),
	}
}

// apply checks that every member exists before changing anything, then
// sets up the groups in file order.
func (a *app) apply(cfg *config.Config) error {
	ids, err := a.memberIDs(cfg)
	if err != nil {
		return err
	}
	groupIDs := map[string]int{}
	for i := range cfg.Groups {
		id, err := a.applyGroup(cfg, &cfg.Groups[i], ids)
		if err != nil {
			return err
		}
		groupIDs[cfg.Groups[i].Name] = id
	}
	return a.applyReactions(cfg, groupIDs, ids)
}

// applyReactions hands the config's reactions to the agent, which carries
// them out itself, so they work while no host tool is attached; a
// pause-group carries the group's pause order from the ordering rules.
func (a *app) applyReactions(cfg *config.Config, groupIDs, domIDs map[string]int) error {
	rs := []proto.Reaction{}
	for _, r := range cfg.Reactions {
		pr := proto.Reaction{On: r.On, Group: groupIDs[r.Group], Do: r.Do}
		if r.Do == config.DoPauseGroup {
			for _, m := range cfg.RuleOrder(r.Group) {
				pr.Order = append(pr.Order, domIDs[m])
			}
		}
		rs = append(rs, pr)
	}
	if err := a.call(proto.OpReactionsSet, proto.ReactionsArgs{Reactions: rs}, nil); err != nil {
		return named("reactions", err)
	}
	fmt.Fprintf(a.stdout, "reactions: %d handed to the control agent\n", len(rs))
	return nil
}

// memberIDs maps every member name to its domain id, naming all missing
// ones at once.
func (a *app) memberIDs(cfg *config.Config) (map[string]int, error) {
	doms, err := a.listDomains()
	if err != nil {
		return nil, err
	}
	ids := map[string]int{}
	for _, d := range doms {
		ids[d.Name] = d.ID
	}
	var errs []error
	for _, g := range cfg.Groups {
		for _, m := range g.Members {
			if _, ok := ids[m]; !ok {
				errs = append(errs, fmt.Errorf("group %s: domain %q: %w", g.Name, m, errno.ESRCH))
			}
		}
	}
	return ids, errors.Join(errs...)
}

func (a *app) applyGroup(cfg *config.Config, cg *config.Group, ids map[string]int) (int, error) {
	g, err := a.ensureGroup(cfg, cg)
	if err != nil {
		return 0, err
	}
	for _, m := range cg.Members {
		d := domain{id: ids[m], name: m}
		if err := a.ensureMember(g, d); err != nil {
			return 0, err
		}
	}
	for _, m := range cg.Members {
		d := domain{id: ids[m], name: m}
		on := cg.InGang(m)
		if err := a.call(proto.OpGroupGang, proto.GangArgs{Domain: d.id, Gang: on}, nil); err != nil {
			return 0, fmt.Errorf("%s: %w", g, named("gang "+d.String(), err))
		}
		fmt.Fprintf(a.stdout, "%s: gang %s for %s\n", g, onOff(on), d)
	}
	// The policy last: a gang is checked against the CPUs with its final
	// members and opt-ins.
	return g.id, a.setPolicy(g, cg.Policy, cg.Skew)
}

// ensureGroup finds the config group on the agent, by its name or (made
// before groups had names) by its fixed id or members, or creates it with
// its name.
func (a *app) ensureGroup(cfg *config.Config, cg *config.Group) (group, error) {
	var info proto.GroupInfo
	err := a.call(proto.OpGroupInfo, proto.GroupArgs{Name: cg.Name}, &info)
	switch {
	case err == nil:
		return a.reuseGroup(cg, info)
	case !errors.Is(err, errno.ESRCH):
		return group{}, fmt.Errorf("group %s: %w", cg.Name, err)
	}
	id, err := a.groupID(cfg, cg)
	if err != nil {
		return group{}, fmt.Errorf("group %s: %w", cg.Name, err)
	}
	if id != 0 {
		info, err := a.groupInfo(group{id: id, cfg: cg})
		if err == nil {
			return a.reuseGroup(cg, info)
		}
		if !errors.Is(err, errno.ESRCH) {
			return group{}, err
		}
	}
	var got proto.GroupID
	if err := a.call(proto.OpGroupCreate, proto.GroupArgs{Group: id, Name: cg.Name}, &got); err != nil {
		return group{}, fmt.Errorf("%s: %w", group{id: id, name: cg.Name}.creating(), err)
	}
	g := group{id: got.Group, name: cg.Name, cfg: cg}
	fmt.Fprintf(a.stdout, "%s: created\n", g)
	return g, nil
}

// reuseGroup takes the group info describes as config group cg, unless the
// agent's group is another one: named otherwise, or not at cg's fixed id.
func (a *app) reuseGroup(cg *config.Group, info proto.GroupInfo) (group, error) {
	g := group{id: info.ID, name: info.Name, cfg: cg}
	switch {
	case info.Name != "" && info.Name != cg.Name:
		return group{}, fmt.Errorf("group %s: id %d is group %q on the agent: %w", cg.Name, info.ID, info.Name, errno.EEXIST)
	case cg.ID != 0 && info.ID != cg.ID:
		return group{}, fmt.Errorf("group %s: is group %d on the agent, not %d: %w", cg.Name, info.ID, cg.ID, errno.EEXIST)
	}
	fmt.Fprintf(a.stdout, "%s: exists\n", g)
	return g, nil
}

// ensureMember joins d unless it is in g already (a rejoin would move it
// to the end of the join order).
func (a *app) ensureMember(g group, d domain) error {
	for _, info := range a.domains {
		if info.ID == d.id && info.Group == g.id {
			fmt.Fprintf(a.stdout, "%s: %s already a member\n", g, d)
			return nil
		}
	}
	if err := a.call(proto.OpGroupJoin, proto.JoinArgs{Group: g.id, Domain: d.id}, nil); err != nil {
		return fmt.Errorf("%s: %w", g, named("join "+d.String(), err))
	}
	fmt.Fprintf(a.stdout, "%s: joined %s\n", g, d)
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
