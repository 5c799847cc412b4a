package proto

// Argument and result objects of the operations. Ids are plain ints on the
// wire; domain ids are 16-bit and group ids below the group table size
// (docs/groups.md), which the agent checks.

// DomainArgs names a domain: pause, unpause, destroy, group.leave.
type DomainArgs struct {
	Domain int `json:"domain"`
}

// GroupArgs names a group: group.create (Group 0 = any free id; Name ""
// = none), group.destroy, group.info (by Name when it is not "", else by
// Group).
type GroupArgs struct {
	Group int    `json:"group"`
	Name  string `json:"name,omitempty"`
}

// PauseArgs pauses or unpauses Group (group.pause, group.unpause). Order,
// when given, is the pause order: the members it names (domain ids) are
// paused in that order, then the others in join order, by one group pause
// in the hypervisor; unpause walks it backwards, and without one walks
// backwards the order of the pause that paused the group.
type PauseArgs struct {
	Group int   `json:"group"`
	Order []int `json:"order,omitempty"`
}

// JoinArgs moves Domain into Group (group.join).
type JoinArgs struct {
	Group  int `json:"group"`
	Domain int `json:"domain"`
}

// ListArgs asks for up to Max group ids from Start on (group.list).
type ListArgs struct {
	Start int `json:"start"`
	Max   int `json:"max"`
}

// GangArgs opts Domain in or out of gang scheduling (group.gang).
type GangArgs struct {
	Domain int  `json:"domain"`
	Gang   bool `json:"gang"`
}

// DomainInfo is one domain as list reports it.
type DomainInfo struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	State      string `json:"state"` // running, paused, crashed, dying
	Group      int    `json:"group"`
	PauseCount int    `json:"pause_count"`
	MemoryMB   int    `json:"memory_mb"`
	// ExitStatus is set when the domain shut down by writing a status to
	// its exit port (port 0xf4; its low 16 bits).
	ExitStatus *int `json:"exit_status,omitempty"`
}

// DomainList is the result of list.
type DomainList struct {
	Domains []DomainInfo `json:"domains"`
}

// GroupInfo is the result of group.info. Gang lists the members (of the
// first 16, as Members) opted into the group's scheduling policy; SkewNS is
// the relaxed policy's bound (0 for the others).
type GroupInfo struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`    // "" for none; "null" for the null group
	Members    []int  `json:"members"` // join order
	Paused     bool   `json:"paused"`
	PauseCount int    `json:"pause_count"`
	Flags      uint32 `json:"flags"`
	Policy     string `json:"policy"` // none, gang, relaxed
	SkewNS     int64  `json:"skew_ns"`
	Gang       []int  `json:"gang"` // opted-in members, join order
	// MemberInfo describes Members one by one.
	MemberInfo []MemberInfo `json:"member_info"`
}

// MemberInfo is one member of a group as group.info reports it: its name
// and state (as list has them) and its flags, MemberGang and
// MemberControl.
type MemberInfo struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	State string   `json:"state"`
	Flags []string `json:"flags"`
}

// Member flags.
const (
	MemberGang    = "gang"    // opted into the group's scheduling policy
	MemberControl = "control" // the control domain: group pauses skip it
)

// GroupList is the result of group.list: ids in order and the next start
// (0 = no more).
type GroupList struct {
	Groups []int `json:"groups"`
	Next   int   `json:"next"`
}

// RingInfo is the result of channel.ring: the rings' size in bytes.
type RingInfo struct {
	Size int `json:"size"`
}

// GroupID is the result of group.create.
type GroupID struct {
	Group int `json:"group"`
}

// Count is the result of group.pause and group.unpause: how many members
// the call paused or unpaused.
type Count struct {
	Count int `json:"count"`
}

// GroupInfo flags, the same bits as the domctl group getinfo (hv/abi).
const (
	GroupFlagNull   = 1 // the null group, 0
	GroupFlagPaused = 2 // the group's pause count is non-zero
)

// Reaction is one standing rule the agent carries out by itself, with no
// host tool attached: when a member of Group has event On (crashed,
// shutdown), do Do (pause-group, destroy-group, destroy-domain, nothing).
type Reaction struct {
	On    string `json:"on"`
	Group int    `json:"group"`
	Do    string `json:"do"`
	// Order is pause-group's pause order (PauseArgs), from the config's
	// ordering rules.
	Order []int `json:"order,omitempty"`
}

// ReactionsArgs replaces the agent's reactions (reactions.set).
type ReactionsArgs struct {
	Reactions []Reaction `json:"reactions"`
}
