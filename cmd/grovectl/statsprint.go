package main

import (
	"fmt"
	"text/tabwriter"

	"grove/ctl/proto"
)

// printStats shows a group's counters: the group's figures, then one line
// per vCPU.
func (a *app) printStats(g group, st proto.GroupStats) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "group:\t%s\n", g)
	fmt.Fprintf(tw, "policy:\t%s\n", st.Policy)
	fmt.Fprintf(tw, "gang turns:\t%d\n", st.GangTurns)
	fmt.Fprintf(tw, "start skew:\tp50 %s µs, p99 %s µs, max %s µs (%d samples)\n",
		us(st.SkewP50NS), us(st.SkewP99NS), us(st.SkewMaxNS), st.SkewSamples)
	fmt.Fprintf(tw, "co-stops:\t%d (%s ms)\n", st.CoStops, ms(st.CoStopNS))
	fmt.Fprintf(tw, "lost slices:\t%d (partner blocked)\n", st.LostSlices)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.VCPUs) == 0 {
		return nil
	}
	fmt.Fprintln(a.stdout)
	tw = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DOMAIN\tVCPU\tALONE ms\tTOGETHER ms\tTOGETHER %\t")
	for _, v := range st.VCPUs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", memberText(v.Domain, a.byID(v.Domain).name), v.VCPU,
			ms(v.AloneNS), ms(v.TogetherNS), percent(v.TogetherNS, v.AloneNS+v.TogetherNS))
	}
	return tw.Flush()
}

func us(ns uint64) string { return fmt.Sprintf("%.1f", float64(ns)/1e3) }
func ms(ns uint64) string { return fmt.Sprintf("%.1f", float64(ns)/1e6) }

// percent is part of whole in percent, "-" when whole is 0.
func percent(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", 100*float64(part)/float64(whole))
}
