package proto

import (
	"fmt"
	"time"
)

// Scheduling groups (docs/groups.md): a group's policy and its counters.

// Scheduling policies, the "policy" of group.policy and GroupInfo.
const (
	PolicyNone    = "none"    // members scheduled independently
	PolicyGang    = "gang"    // opted-in members run together or not at all
	PolicyRelaxed = "relaxed" // opted-in members kept within a skew bound
)

// The relaxed policy's skew bound: its range and grovectl's default
// (three 10 ms slices), as hv/abi's MinSkewNS, MaxSkewNS, DefaultSkewNS.
const (
	MinSkew     = time.Millisecond
	MaxSkew     = 10 * time.Second
	DefaultSkew = 30 * time.Millisecond
)

// Policies lists the policies in their ABI order (hv/abi: 0, 1, 2).
var Policies = []string{PolicyNone, PolicyGang, PolicyRelaxed}

// PolicyArgs sets Group's policy (group.policy). SkewNS is the relaxed
// policy's bound (1 ms..10 s) and must be 0 for the others.
type PolicyArgs struct {
	Group  int    `json:"group"`
	Policy string `json:"policy"`
	SkewNS int64  `json:"skew_ns"`
}

// StatsArgs asks for Group's scheduling counters (group.stats), zeroing
// them after the read when Reset is set.
type StatsArgs struct {
	Group int  `json:"group"`
	Reset bool `json:"reset"`
}

// GroupStats is the result of group.stats. Skew figures are the gang
// start skew (each member's VMRUN against the turn's first) over
// SkewSamples starts; CoStops and CoStopNS count the relaxed policy's
// co-stops; LostSlices counts gang turns with a member blocked.
type GroupStats struct {
	Group       int         `json:"group"`
	Policy      string      `json:"policy"`
	GangTurns   uint64      `json:"gang_turns"`
	SkewSamples uint64      `json:"skew_samples"`
	SkewP50NS   uint64      `json:"skew_p50_ns"`
	SkewP99NS   uint64      `json:"skew_p99_ns"`
	SkewMaxNS   uint64      `json:"skew_max_ns"`
	CoStops     uint64      `json:"co_stops"`
	CoStopNS    uint64      `json:"co_stop_ns"`
	LostSlices  uint64      `json:"lost_slices"`
	VCPUs       []VCPUStats `json:"vcpus"`
}

// VCPUStats is one vCPU's time run alone and while a sibling ran too.
type VCPUStats struct {
	Domain     int    `json:"domain"`
	VCPU       int    `json:"vcpu"`
	AloneNS    uint64 `json:"alone_ns"`
	TogetherNS uint64 `json:"together_ns"`
}

// PolicyName is the name of ABI policy number p ("" if unknown).
func PolicyName(p int) string {
	if p < 0 || p >= len(Policies) {
		return ""
	}
	return Policies[p]
}

// PolicyNumber is the ABI number of policy name (false if unknown).
func PolicyNumber(name string) (int, bool) {
	for i, p := range Policies {
		if p == name {
			return i, true
		}
	}
	return 0, false
}

// CheckPolicy checks a policy and its skew bound as the hypervisor will,
// so a bad one is refused before anything is sent: the name must be one
// of Policies, relaxed needs a bound in MinSkew..MaxSkew, the others none.
func CheckPolicy(name string, skew time.Duration) error {
	switch _, ok := PolicyNumber(name); {
	case !ok:
		return fmt.Errorf("unknown policy %q: want none, gang or relaxed", name)
	case name != PolicyRelaxed && skew != 0:
		return fmt.Errorf("a skew bound is only for policy relaxed, not %s", name)
	case name == PolicyRelaxed && (skew < MinSkew || skew > MaxSkew):
		return fmt.Errorf("skew bound %v is out of range %v..%v", skew, MinSkew, MaxSkew)
	}
	return nil
}
