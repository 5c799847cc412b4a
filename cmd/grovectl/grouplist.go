package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"grove/ctl/proto"
)

// listPage is how many ids one group.list call asks for.
const listPage = 64

func (a *app) groupListCmd() *cobra.Command {
	return a.addJSON(&cobra.Command{
		Use:   "list",
		Short: "List the groups with their members",
		Args:  noArgs,
		RunE:  runE(func([]string) error { return a.groupList() }),
	})
}

func (a *app) groupList() error {
	ids, err := a.groupIDs()
	if err != nil {
		return err
	}
	infos := []proto.GroupInfo{}
	for _, id := range ids {
		info, err := a.groupInfo(group{id: id})
		if err != nil {
			return err
		}
		infos = append(infos, info)
	}
	if a.jsonOut {
		return a.printJSON(infos)
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tNAME\tPAUSED\tPOLICY\tMEMBERS")
	for _, info := range infos {
		name := info.Name
		if cg := a.configGroupByID(cfg, info.ID); name == "" && cg != nil {
			name = cg.Name // made before groups had names
		}
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", info.ID, name, a.pausedText(info),
			policyText(info.Policy, info.SkewNS), membersText(info.Members, a.memberNames(info)))
	}
	return tw.Flush()
}

// groupIDs pages through group.list. The agent's next start must move
// forward, or a confused agent would keep grovectl looping.
func (a *app) groupIDs() ([]int, error) {
	var ids []int
	start := 0
	for {
		var l proto.GroupList
		if err := a.call(proto.OpGroupList, proto.ListArgs{Start: start, Max: listPage}, &l); err != nil {
			return nil, named("group list", err)
		}
		ids = append(ids, l.Groups...)
		if l.Next == 0 {
			return ids, nil
		}
		if l.Next <= start {
			return nil, fmt.Errorf("group list: agent returned next %d after start %d", l.Next, start)
		}
		start = l.Next
	}
}
