package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"grove/ctl/proto"
)

// Scheduling groups (docs/groups.md): a group's policy and its counters.

func (a *app) groupPolicyCmd() *cobra.Command {
	var skew time.Duration
	var cmd *cobra.Command
	cmd = &cobra.Command{
		Use:   "policy GROUP none|gang|relaxed",
		Short: "Set a group's scheduling policy (relaxed: --skew bound, default 30ms)",
		Args:  exactArgs(2),
		RunE: runE(func(args []string) error {
			name := args[1]
			given := cmd.Flags().Changed("skew")
			if name == proto.PolicyRelaxed && !given {
				skew = proto.DefaultSkew
			}
			if _, known := proto.PolicyNumber(name); known && given && name != proto.PolicyRelaxed {
				return usagef("group policy: --skew is only for policy relaxed, not %s", name)
			}
			if err := proto.CheckPolicy(name, skew); err != nil {
				return usagef("group policy: %v", err)
			}
			g, err := a.resolveGroup(args[0])
			if err != nil {
				return err
			}
			return a.setPolicy(g, name, skew)
		}),
	}
	cmd.Flags().DurationVar(&skew, "skew", 0, "relaxed only: how far a vCPU may run ahead of its slowest sibling (1ms..10s)")
	return cmd
}

// setPolicy sets g's policy (checked by the caller) and says so.
func (a *app) setPolicy(g group, name string, skew time.Duration) error {
	if err := a.call(proto.OpGroupPolicy, proto.PolicyArgs{Group: g.id, Policy: name, SkewNS: int64(skew)}, nil); err != nil {
		return fmt.Errorf("%s: %w", g, named("policy "+name, err))
	}
	fmt.Fprintf(a.stdout, "%s: policy %s\n", g, policyText(name, int64(skew)))
	return nil
}

// policyText is e.g. "gang" or "relaxed (skew 30ms)".
func policyText(name string, skewNS int64) string {
	if name == proto.PolicyRelaxed {
		return fmt.Sprintf("%s (skew %v)", name, time.Duration(skewNS))
	}
	return name
}

func (a *app) groupStatsCmd() *cobra.Command {
	var reset bool
	cmd := a.addJSON(&cobra.Command{
		Use:   "stats GROUP",
		Short: "Show a group's scheduling counters (--reset zeroes them after reading)",
		Args:  exactArgs(1),
		RunE: runE(func(args []string) error {
			g, err := a.resolveGroup(args[0])
			if err != nil {
				return err
			}
			var st proto.GroupStats
			if err := a.call(proto.OpGroupStats, proto.StatsArgs{Group: g.id, Reset: reset}, &st); err != nil {
				return fmt.Errorf("%s: %w", g, named("stats", err))
			}
			if a.jsonOut {
				return a.printJSON(st)
			}
			if err := a.printStats(g, st); err != nil {
				return err
			}
			if reset {
				fmt.Fprintf(a.stdout, "%s: counters reset\n", g)
			}
			return nil
		}),
	})
	cmd.Flags().BoolVar(&reset, "reset", false, "zero the counters after reading them")
	return cmd
}
