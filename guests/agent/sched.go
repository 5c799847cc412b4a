//go:build groveguest

package main

import (
	"fmt"

	"grove/ctl/proto"
	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// Scheduling groups: group.policy and group.stats through the domctl
// group ops setpolicy and getstats (hv/abi/sched.go).

// handleSched serves group.policy and group.stats.
func handleSched(req *proto.Request) (any, error) {
	if req.Op == proto.OpGroupPolicy {
		var p proto.PolicyArgs
		if err := req.DecodeArgs(&p); err != nil {
			return nil, err
		}
		return nil, setPolicy(p)
	}
	var s proto.StatsArgs
	if err := req.DecodeArgs(&s); err != nil {
		return nil, err
	}
	return groupStats(s)
}

func setPolicy(p proto.PolicyArgs) error {
	n, ok := proto.PolicyNumber(p.Policy)
	if !ok {
		return fmt.Errorf("unknown policy %q (none, gang, relaxed): %w", p.Policy, errno.EINVAL)
	}
	if p.SkewNS < 0 {
		return fmt.Errorf("negative skew bound: %w", errno.EINVAL)
	}
	_, err := group(abi.GroupSetPolicy, abi.GroupArgs{Group: uint16(p.Group), Arg: uint32(n), Buffer: uint64(p.SkewNS)})
	return err
}

// groupStats reads the counters into a buffer the hypervisor can reach
// (touched, as the list buffer is).
func groupStats(s proto.StatsArgs) (proto.GroupStats, error) {
	buf := make([]byte, abi.GroupStatsSize)
	kernel.Touch(buf)
	flags := uint32(0)
	if s.Reset {
		flags = abi.StatsReset
	}
	if _, err := group(abi.GroupGetStats, abi.GroupArgs{Group: uint16(s.Group), Arg: flags, Buffer: gva(buf)}); err != nil {
		return proto.GroupStats{}, err
	}
	st, ok := abi.DecodeGroupStats(buf)
	if !ok {
		return proto.GroupStats{}, fmt.Errorf("bad stats buffer from the hypervisor: %w", errno.EINVAL)
	}
	return statsOf(s.Group, st), nil
}

func statsOf(gid int, st abi.GroupStats) proto.GroupStats {
	out := proto.GroupStats{Group: gid, Policy: proto.PolicyName(int(st.Policy)), GangTurns: st.GangTurns,
		SkewSamples: st.SkewSamples, SkewP50NS: st.SkewP50, SkewP99NS: st.SkewP99, SkewMaxNS: st.SkewMax,
		CoStops: st.CoStops, CoStopNS: st.CoStopNS, LostSlices: st.LostSlices, VCPUs: []proto.VCPUStats{}}
	for _, v := range st.VCPUs {
		out.VCPUs = append(out.VCPUs, proto.VCPUStats{Domain: int(v.Domain), VCPU: int(v.VCPU),
			AloneNS: v.AloneNS, TogetherNS: v.TogetherNS})
	}
	return out
}

// schedInfo adds getinfo's sched field to a group.info answer.
func schedInfo(out *proto.GroupInfo, s abi.GroupSched) {
	out.Policy = proto.PolicyName(int(s.Policy))
	out.SkewNS = int64(s.SkewUS) * 1000
	out.Gang = []int{}
	for i, m := range out.Members {
		if i < abi.GroupInfoMembers && s.Gang&(1<<i) != 0 {
			out.Gang = append(out.Gang, m)
		}
	}
}
