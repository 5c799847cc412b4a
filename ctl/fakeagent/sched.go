package fakeagent

import (
	"slices"

	"grove/ctl/proto"
	"grove/errno"
	"grove/hv/abi"
)

// Scheduling groups as the host sees them: a group's policy and skew
// bound, the E2BIG check of a gang against the CPUs, and counters that
// tests set (the fake schedules nothing).

// DefaultCPUs is the fake machine's CPU count until SetCPUs: the QEMU
// tests' -smp 2.
const DefaultCPUs = 2

// SetCPUs sets how many CPUs a gang may use.
func (a *Agent) SetCPUs(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cpus = n
}

// SetVCPUs gives domain id n vCPUs (AddDomain gives one).
func (a *Agent) SetVCPUs(id, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.domains[id]; ok {
		d.vcpus = n
	}
}

// SetStats sets the counters group.stats reports for group gid (its
// Group and Policy fields are filled in from the group).
func (a *Agent) SetStats(gid int, s proto.GroupStats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if g, ok := a.groups[gid]; ok {
		g.stats = s
		g.stats.VCPUs = slices.Clone(s.VCPUs)
	}
}

// gangVCPUs counts the vCPUs of g's opted-in members, without domain
// skip (-1 for none).
func (a *Agent) gangVCPUs(g *group, skip int) int {
	n := 0
	for _, id := range g.members {
		if d := a.domains[id]; id != skip && d.gang {
			n += d.vcpus
		}
	}
	return n
}

// fits reports E2BIG if g, as a gang, would have its opted-in vCPUs plus
// extra outnumber the CPUs.
func (a *Agent) fits(g *group, policy, skip, extra int) error {
	if policy == abi.PolicyGang && a.gangVCPUs(g, skip)+extra > a.cpus {
		return errno.E2BIG
	}
	return nil
}

// setPolicy checks in the hypervisor's order: the null group, the
// arguments, the group, then whether a gang fits.
func (a *Agent) setPolicy(x args) (any, error) {
	gid := x.group()
	var name string
	var skew int64
	if x.Policy != nil && x.SkewNS != nil {
		name, skew = *x.Policy, *x.SkewNS
	}
	p, ok := proto.PolicyNumber(name)
	switch {
	case gid == 0:
		return nil, errno.EPERM
	case !ok:
		return nil, errno.EINVAL
	case p == abi.PolicyRelaxed && (skew < abi.MinSkewNS || skew > abi.MaxSkewNS):
		return nil, errno.EINVAL
	case p != abi.PolicyRelaxed && skew != 0:
		return nil, errno.EINVAL
	}
	g, ok := a.groups[gid]
	if !ok {
		return nil, errno.ESRCH
	}
	if err := a.fits(g, p, -1, 0); err != nil {
		return nil, err
	}
	g.policy, g.skewNS = p, skew
	return nil, nil
}

// stats reports g's counters and, with reset, zeroes them after the read.
func (a *Agent) stats(x args) (any, error) {
	gid := x.group()
	g, ok := a.groups[gid]
	if !ok {
		return nil, errno.ESRCH
	}
	out := g.stats
	out.Group, out.Policy = gid, proto.PolicyName(g.policy)
	out.VCPUs = slices.Clone(g.stats.VCPUs)
	if out.VCPUs == nil {
		out.VCPUs = []proto.VCPUStats{}
	}
	if x.Reset != nil && *x.Reset {
		vs := g.stats.VCPUs
		g.stats = proto.GroupStats{VCPUs: make([]proto.VCPUStats, len(vs))}
		for i, v := range vs {
			g.stats.VCPUs[i] = proto.VCPUStats{Domain: v.Domain, VCPU: v.VCPU}
		}
	}
	return out, nil
}

// schedInfo fills a group.info answer's policy, bound and opt-ins (of the
// first abi.GroupInfoMembers members, as the hypervisor reports them).
func (a *Agent) schedInfo(info *proto.GroupInfo, g *group) {
	info.Policy, info.SkewNS, info.Gang = proto.PolicyName(g.policy), g.skewNS, []int{}
	for i, id := range info.Members {
		if i < abi.GroupInfoMembers && a.domains[id].gang {
			info.Gang = append(info.Gang, id)
		}
	}
}
