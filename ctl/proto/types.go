package proto

// Argument and result objects of the operations. Ids are plain ints on the
// wire; domain ids are 16-bit and group ids below the group table size
// (docs/groups.md), which the agent checks.

// DomainArgs names a domain: pause, unpause, destroy, group.leave.
type DomainArgs struct {
	Domain int `json:"domain"`
}

// GroupArgs names a group: group.create (0 = any free id), group.destroy,
// group.pause, group.unpause, group.info.
type GroupArgs struct {
	Group int `json:"group"`
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
	Members    []int  `json:"members"` // join order
	Paused     bool   `json:"paused"`
	PauseCount int    `json:"pause_count"`
	Flags      uint32 `json:"flags"`
	Policy     string `json:"policy"` // none, gang, relaxed
	SkewNS     int64  `json:"skew_ns"`
	Gang       []int  `json:"gang"` // opted-in members, join order
}

// GroupList is the result of group.list: ids in order and the next start
// (0 = no more).
type GroupList struct {
	Groups []int `json:"groups"`
	Next   int   `json:"next"`
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
}

// ReactionsArgs replaces the agent's reactions (reactions.set).
type ReactionsArgs struct {
	Reactions []Reaction `json:"reactions"`
}
