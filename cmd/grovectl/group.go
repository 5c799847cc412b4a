package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"grove/ctl/proto"
)

func (a *app) groupCmd() *cobra.Command {
	g := &cobra.Command{
		Use:   "group",
		Short: "Manage domain groups (GROUP is an id, or a name with --config)",
		Args:  noArgs,
		RunE:  func(*cobra.Command, []string) error { return usagef("group: missing subcommand") },
	}
	g.AddCommand(a.groupCreateCmd(), a.groupOpCmd("destroy", proto.OpGroupDestroy),
		a.groupJoinCmd(), a.groupLeaveCmd(), a.groupPauseCmd("pause"), a.groupPauseCmd("unpause"),
		a.groupInfoCmd(), a.groupListCmd(), a.groupPolicyCmd(), a.groupStatsCmd())
	return g
}

func (a *app) groupCreateCmd() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "create [ID] [--name NAME]",
		Short: "Create a group (with ID, or the lowest free id; NAME unique, a-z 0-9 - _)",
		Args:  rangeArgs(0, 1),
		RunE: runE(func(args []string) error {
			want := 0
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 {
					return usagef("group create: %q is not a group id (1..255)", args[0])
				}
				want = n
			}
			if name != "" && !proto.ValidGroupName(name) {
				return usagef("group create: %q is not a group name (1-32 of a-z 0-9 - _, not %q)", name, proto.NullGroupName)
			}
			var got proto.GroupID
			if err := a.call(proto.OpGroupCreate, proto.GroupArgs{Group: want, Name: name}, &got); err != nil {
				return fmt.Errorf("%s: %w", group{id: want, name: name}.creating(), err)
			}
			fmt.Fprintf(a.stdout, "%s: created\n", group{id: got.Group, name: name})
			return nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "the group's name (unique; find it by name later)")
	return cmd
}

// creating names a group not made yet: "group web", "group 7", "group
// web (7)" or, for any id and no name, "group create".
func (g group) creating() string {
	switch {
	case g.name != "" && g.id == 0:
		return "group " + g.name
	case g.id == 0:
		return "group create"
	}
	return g.String()
}

// groupOpCmd is a plain op on one group.
func (a *app) groupOpCmd(use, op string) *cobra.Command {
	return &cobra.Command{
		Use:   use + " GROUP",
		Short: strings.ToUpper(use[:1]) + use[1:] + " a group",
		Args:  exactArgs(1),
		RunE: runE(func(args []string) error {
			g, err := a.resolveGroup(args[0])
			if err != nil {
				return err
			}
			return a.groupOp(g, use, op)
		}),
	}
}

func (a *app) groupOp(g group, verb, op string) error {
	var n proto.Count
	if err := a.call(op, proto.GroupArgs{Group: g.id}, &n); err != nil {
		return fmt.Errorf("%s: %w", g, err)
	}
	if op == proto.OpGroupPause || op == proto.OpGroupUnpause {
		fmt.Fprintf(a.stdout, "%s: %s (%d members)\n", g, done(verb), n.Count)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s: %s\n", g, done(verb))
	return nil
}

func (a *app) groupJoinCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "join GROUP DOMAIN",
		Short: "Move a domain into a group",
		Args:  exactArgs(2),
		RunE: runE(func(args []string) error {
			g, err := a.resolveGroup(args[0])
			if err != nil {
				return err
			}
			d, err := a.resolveDomain(args[1])
			if err != nil {
				return err
			}
			if err := a.call(proto.OpGroupJoin, proto.JoinArgs{Group: g.id, Domain: d.id}, nil); err != nil {
				return fmt.Errorf("%s: %w", g, named("join "+d.String(), err))
			}
			fmt.Fprintf(a.stdout, "%s: joined %s\n", d, g)
			return nil
		}),
	}
}

func (a *app) groupLeaveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "leave DOMAIN",
		Short: "Move a domain back to the null group",
		Args:  exactArgs(1),
		RunE: runE(func(args []string) error {
			d, err := a.resolveDomain(args[0])
			if err != nil {
				return err
			}
			if err := a.call(proto.OpGroupLeave, proto.DomainArgs{Domain: d.id}, nil); err != nil {
				return fmt.Errorf("%s: %w", d, named("leave", err))
			}
			fmt.Fprintf(a.stdout, "%s: left its group\n", d)
			return nil
		}),
	}
}

// groupPauseCmd pauses or unpauses a group with the hypervisor's single
// all-or-nothing call, in the config's order when it has ordering rules
// for the group (groupPause).
func (a *app) groupPauseCmd(verb string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " GROUP",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a group's members (in the config's order, if it has rules)",
		Args:  exactArgs(1),
		RunE: runE(func(args []string) error {
			g, err := a.resolveGroup(args[0])
			if err != nil {
				return err
			}
			return a.groupPause(g, verb == "pause")
		}),
	}
}

func (a *app) groupInfoCmd() *cobra.Command {
	return a.addJSON(&cobra.Command{
		Use:   "info GROUP",
		Short: "Show a group",
		Args:  exactArgs(1),
		RunE: runE(func(args []string) error {
			g, err := a.resolveGroup(args[0])
			if err != nil {
				return err
			}
			info, err := a.groupInfo(g)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(info)
			}
			g.name = info.Name
			return a.printInfo(g, info)
		}),
	})
}

// printInfo is group info's text: the group, then a line per member.
func (a *app) printInfo(g group, info proto.GroupInfo) error {
	names := a.memberNames(info)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "group:\t%s\n", g)
	fmt.Fprintf(tw, "paused:\t%s\n", a.pausedText(info))
	fmt.Fprintf(tw, "flags:\t%#x\n", info.Flags)
	fmt.Fprintf(tw, "policy:\t%s\n", policyText(info.Policy, info.SkewNS))
	fmt.Fprintf(tw, "members:\t%s\n", membersText(info.Members, names))
	fmt.Fprintf(tw, "opted in:\t%s\n", membersText(info.Gang, names))
	if err := tw.Flush(); err != nil || len(info.MemberInfo) == 0 {
		return err
	}
	tw = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nMEMBER\tSTATE\tFLAGS")
	for _, m := range info.MemberInfo {
		flags := strings.Join(m.Flags, ",")
		if flags == "" {
			flags = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", memberText(m.ID, m.Name), m.State, flags)
	}
	return tw.Flush()
}

func (a *app) groupInfo(g group) (proto.GroupInfo, error) {
	var info proto.GroupInfo
	if err := a.call(proto.OpGroupInfo, proto.GroupArgs{Group: g.id}, &info); err != nil {
		return info, fmt.Errorf("%s: %w", g, err)
	}
	return info, nil
}

func (a *app) pausedText(info proto.GroupInfo) string {
	if !info.Paused {
		return "no"
	}
	return fmt.Sprintf("yes (count %d)", info.PauseCount)
}

// membersText lists ids as "web1(1) web2(2)", "-" for none.
func membersText(ids []int, names map[int]string) string {
	if len(ids) == 0 {
		return "-"
	}
	var parts []string
	for _, id := range ids {
		parts = append(parts, memberText(id, names[id]))
	}
	return strings.Join(parts, " ")
}
