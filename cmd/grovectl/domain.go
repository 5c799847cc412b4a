package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"grove/ctl/proto"
)

func (a *app) listCmd() *cobra.Command {
	return a.addJSON(&cobra.Command{
		Use:   "list",
		Short: "List the domains",
		Args:  noArgs,
		RunE:  runE(func([]string) error { return a.list() }),
	})
}

func (a *app) list() error {
	doms, err := a.listDomains()
	if err != nil {
		return err
	}
	if a.jsonOut {
		return a.printJSON(doms)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tGROUP\tPAUSES\tMEMORY")
	for _, d := range doms {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d MiB\n", d.ID, d.Name, stateText(d), d.Group, d.PauseCount, d.MemoryMB)
	}
	return tw.Flush()
}

// stateText is a domain's state as list shows it, with the status of one
// that ended through its exit port.
func stateText(d proto.DomainInfo) string {
	if d.ExitStatus != nil {
		return fmt.Sprintf("%s (exit %d)", d.State, *d.ExitStatus)
	}
	return d.State
}

// domainCmd is pause, unpause or destroy: one op on one domain.
func (a *app) domainCmd(use, op, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use + " DOMAIN",
		Short: short + " (by id or name)",
		Args:  exactArgs(1),
		RunE: runE(func(args []string) error {
			d, err := a.resolveDomain(args[0])
			if err != nil {
				return err
			}
			if err := a.call(op, proto.DomainArgs{Domain: d.id}, nil); err != nil {
				return fmt.Errorf("%s: %w", d, err)
			}
			fmt.Fprintf(a.stdout, "%s: %s\n", d, done(use))
			return nil
		}),
	}
}

// done is the past tense of a command, for "domain 3: paused".
func done(verb string) string {
	switch verb {
	case "destroy":
		return "destroyed"
	case "create":
		return "created"
	}
	return verb + "d"
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// noArgs and exactArgs are cobra's checks, reporting as usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	return asUsage(cobra.NoArgs(cmd, args))
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return asUsage(cobra.ExactArgs(n)(cmd, args))
	}
}

func rangeArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return asUsage(cobra.RangeArgs(min, max)(cmd, args))
	}
}

func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usagef("%v", err)
}
