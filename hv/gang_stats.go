package hv

import (
	"slices"

	"grove/domgrp"
	"grove/hv/abi"
)

// Counters of a scheduling group, for the getstats op.

const skewSamples = 4096 // the last this many gang starts are kept

type groupCounters struct {
	gangTurns, lost   uint64
	costops, costopNS uint64
	skew              [skewSamples]int64 // ring of start skews, ns
	nskew             uint64             // samples ever taken
}

func (c *groupCounters) addSkew(ns int64) {
	c.skew[c.nskew%skewSamples] = ns
	c.nskew++
}

// stats reads group gid's counters, its members' run time alone and
// together, and with reset zeroes them. A group without a policy has only
// zero counters.
func (s *Scheduler) stats(gid domgrp.GroupID, p domgrp.Policy, reset bool) abi.GroupStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := abi.GroupStats{Policy: uint32(p)}
	g := s.groups[gid]
	if g == nil {
		return st
	}
	c := &g.ctr
	st.GangTurns, st.LostSlices, st.CoStops, st.CoStopNS = c.gangTurns, c.lost, c.costops, c.costopNS
	n := min(c.nskew, skewSamples)
	st.SkewSamples = c.nskew
	if n > 0 {
		xs := slices.Clone(c.skew[:n])
		slices.Sort(xs)
		st.SkewP50, st.SkewP99, st.SkewMax = uint64(xs[(n-1)/2]), uint64(xs[(n-1)*99/100]), uint64(xs[n-1])
	}
	for _, v := range g.vcpus {
		if len(st.VCPUs) < abi.StatsVCPUs {
			st.VCPUs = append(st.VCPUs, abi.VCPUStats{Domain: uint16(v.dom.ID), VCPU: uint16(v.id),
				AloneNS: v.aloneNS, TogetherNS: v.togetherNS})
		}
		if reset {
			v.aloneNS, v.togetherNS = 0, 0
		}
	}
	if reset {
		g.ctr = groupCounters{}
	}
	return st
}
