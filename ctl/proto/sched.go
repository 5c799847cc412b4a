package proto

// Scheduling groups (docs/groups.md): a group's policy and its counters.

// Scheduling policies, the "policy" of group.policy and GroupInfo.
const (
	PolicyNone    = "none"    // members scheduled independently
	PolicyGang    = "gang"    // opted-in members run together or not at all
	PolicyRelaxed = "relaxed" // opted-in members kept within a skew bound
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
