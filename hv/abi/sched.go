package abi

import "encoding/binary"

// Scheduling groups: a group's members can be co-scheduled. Two more ops of
// the group command (union layout in group.go):
//
//	op             group  domain  arg           buffer                    errors
//	10 setpolicy   IN     -       IN policy     IN skew bound, ns         EPERM null group, ESRCH,
//	                                                                      EINVAL bad policy or bound,
//	                                                                      E2BIG gang needs more CPUs
//	                                                                      than there are
//	11 getstats      IN     -       IN flags      IN GVA of GroupStatsSize  ESRCH, EFAULT, EINVAL flags
//	                                            bytes (OUT: GroupStats)
//
// Policies: PolicyNone (default: members scheduled independently),
// PolicyGang (strict co-scheduling: the opted-in members' vCPUs run at the
// same time on different CPUs, or not at all), PolicyRelaxed (members run
// independently; a vCPU that gets ahead of its slowest runnable sibling by
// more than the skew bound is co-stopped until the sibling catches up). A
// domain opts in with op 9 (gang, arg 1) and out with arg 0; opted-out
// members are scheduled as under PolicyNone. The skew bound is given for
// relaxed only (MinSkewNS..MaxSkewNS) and must be 0 for the others. A gang
// whose opted-in vCPUs outnumber the CPUs could never run: setpolicy and
// join/gang-opt-in refuse it with E2BIG. stats flag StatsReset zeroes the
// counters after reading them.
//
// getinfo's sched field (union offset 64, 8 bytes, OUT):
//
//	off size field
//	0   1    policy
//	1   1    padding
//	2   2    gang: bit i set = member i (of info's first 16) opted in
//	4   4    skew bound, µs (relaxed)
const (
	GroupSetPolicy = 10
	GroupGetStats  = 11

	PolicyNone    = 0
	PolicyGang    = 1
	PolicyRelaxed = 2

	MinSkewNS     = 1_000_000      // 1 ms
	MaxSkewNS     = 10_000_000_000 // 10 s
	DefaultSkewNS = 30_000_000     // three 10 ms slices (grovectl's default)

	StatsReset = 1
)

// GroupSched is getinfo's view of a group's scheduling.
type GroupSched struct {
	Policy uint8
	Gang   uint16 // opt-in bits of the first 16 members
	SkewUS uint32
}

func decodeGroupSched(b []byte) GroupSched {
	le := binary.LittleEndian
	return GroupSched{Policy: b[0], Gang: le.Uint16(b[2:]), SkewUS: le.Uint32(b[4:])}
}

func (s GroupSched) encode(b []byte) {
	le := binary.LittleEndian
	b[0], b[1] = s.Policy, 0
	le.PutUint16(b[2:], s.Gang)
	le.PutUint32(b[4:], s.SkewUS)
}

// GroupStats is the stats op's buffer (GroupStatsSize bytes, all OUT):
//
//	off  size  field
//	0    4     policy
//	4    4     number of vCPU entries that follow (at most StatsVCPUs)
//	8    8     gang turns: slots in which the gang ran
//	16   8     skew samples: gang starts measured
//	24   8     start skew p50, ns (each member's VMRUN TSC minus the turn's first)
//	32   8     start skew p99, ns
//	40   8     start skew max, ns
//	48   8     co-stops (relaxed): times a leader was stopped for a laggard
//	56   8     co-stop time, ns
//	64   8     slices lost to a blocked partner (gang turns with a member blocked)
//	72   24*n  per vCPU: u16 domain, u16 vcpu, u32 padding, u64 ns run alone,
//	           u64 ns run while a sibling ran too
const (
	StatsVCPUs     = 16
	statsHeader    = 72
	statsEntry     = 24
	GroupStatsSize = statsHeader + StatsVCPUs*statsEntry
)

// VCPUStats is one vCPU's line of GroupStats.
type VCPUStats struct {
	Domain, VCPU        uint16
	AloneNS, TogetherNS uint64
}

// GroupStats is the decoded stats buffer.
type GroupStats struct {
	Policy                    uint32
	GangTurns, SkewSamples    uint64
	SkewP50, SkewP99, SkewMax uint64
	CoStops, CoStopNS         uint64
	LostSlices                uint64
	VCPUs                     []VCPUStats // at most StatsVCPUs
}

// Encode writes s in its GroupStatsSize-byte layout.
func (s GroupStats) Encode() []byte {
	b := make([]byte, GroupStatsSize)
	le := binary.LittleEndian
	n := min(len(s.VCPUs), StatsVCPUs)
	le.PutUint32(b, s.Policy)
	le.PutUint32(b[4:], uint32(n))
	for i, v := range []uint64{s.GangTurns, s.SkewSamples, s.SkewP50, s.SkewP99, s.SkewMax,
		s.CoStops, s.CoStopNS, s.LostSlices} {
		le.PutUint64(b[8+8*i:], v)
	}
	for i, v := range s.VCPUs[:n] {
		e := b[statsHeader+i*statsEntry:]
		le.PutUint16(e, v.Domain)
		le.PutUint16(e[2:], v.VCPU)
		le.PutUint64(e[8:], v.AloneNS)
		le.PutUint64(e[16:], v.TogetherNS)
	}
	return b
}

// DecodeGroupStats reads the stats buffer.
func DecodeGroupStats(b []byte) (GroupStats, bool) {
	if len(b) < GroupStatsSize {
		return GroupStats{}, false
	}
	le := binary.LittleEndian
	s := GroupStats{Policy: le.Uint32(b)}
	n := le.Uint32(b[4:])
	if n > StatsVCPUs {
		return GroupStats{}, false
	}
	for i, p := range []*uint64{&s.GangTurns, &s.SkewSamples, &s.SkewP50, &s.SkewP99, &s.SkewMax,
		&s.CoStops, &s.CoStopNS, &s.LostSlices} {
		*p = le.Uint64(b[8+8*i:])
	}
	for i := 0; i < int(n); i++ {
		e := b[statsHeader+i*statsEntry:]
		s.VCPUs = append(s.VCPUs, VCPUStats{le.Uint16(e), le.Uint16(e[2:]), le.Uint64(e[8:]), le.Uint64(e[16:])})
	}
	return s, true
}
