package domgrp

// DomID is a domain id; dom0 is the control domain.
type DomID uint16

// GroupID is a group id; group 0 is the null group.
type GroupID uint16

const (
	// Dom0 is the control domain. Group pauses never pause it.
	Dom0 DomID = 0
	// NullGroup holds every ungrouped domain. It always exists; it cannot be
	// created, destroyed, paused or unpaused.
	NullGroup GroupID = 0

	// DefaultMaxGroups is the table size used when New is given 0; it
	// counts the null group.
	DefaultMaxGroups = 256
	// MaxGroupPauses caps a group's own (nested) pause count, like the
	// per-domain controller count.
	MaxGroupPauses = 255
	// InfoMembers is how many members Info lists.
	InfoMembers = 16
	// MaxNameLen is the longest group name (hv/abi's GroupNameSize).
	MaxNameLen = 32
	// NullName is the null group's name; no other group may take it.
	NullName = "null"
)

// ValidName reports whether s may name a group: 1 to MaxNameLen bytes of
// a-z, 0-9, '-' and '_' (the names grovectl's configs use).
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// Domain is what domgrp needs of a domain. The hypervisor's domains implement
// it; domgrptest has a fake. Each Domain keeps its own controller pause
// count: domgrp never reads it, it only adds and removes its own pauses.
type Domain interface {
	ID() DomID
	// Pause adds one to the controller pause count; at the limit (255) it
	// fails with errno.EOVERFLOW and changes nothing.
	Pause() error
	// Unpause removes one; at zero it fails with errno.EINVAL.
	Unpause() error
	// WaitDescheduled returns once no vCPU of the domain is running on
	// any CPU. domgrp calls it only on domains it has just paused.
	WaitDescheduled()
}

// Policy is a group's scheduling policy (hv/abi/sched.go has the
// semantics): its members scheduled independently, as a gang, or with
// relaxed co-scheduling. The null group never has one.
type Policy uint8

const (
	PolicyNone Policy = iota
	PolicyGang
	PolicyRelaxed
)

// Bounds of PolicyRelaxed's skew bound, ns.
const (
	MinSkewNS = 1_000_000
	MaxSkewNS = 10_000_000_000
)

// Info flags.
const (
	FlagNull   uint8 = 1 << iota // the null group
	FlagPaused                   // the group's pause count is non-zero
)

// Info is getinfo's fixed-size answer.
type Info struct {
	ID       GroupID
	Name     string // "" for none; NullName for the null group
	Flags    uint8
	Pauses   uint8  // the group's own pause count
	NMembers uint32 // all members, not only those listed
	// Members holds the first min(NMembers, InfoMembers) members in join
	// order; the rest are zero.
	Members [InfoMembers]DomID
	// Gang[i] is Members[i]'s opt-in to its group's scheduling policy.
	Gang   [InfoMembers]bool
	Policy Policy
	SkewNS uint64 // PolicyRelaxed's bound, else 0
}

// DomInfo is what a snapshot records of a domain.
type DomInfo struct {
	Dom   Domain
	Group GroupID
	// Gang is the domain's opt-in to gang scheduling of its group.
	Gang bool
	// Seq stamps the domain's last join (or registration); a group's
	// members are in increasing Seq order, which readers can check.
	Seq uint64
}
