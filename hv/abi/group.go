package abi

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// Group control is one domctl command, DomctlGroup, whose union starts with
// an op (there is no group hypercall). Union layout (offsets within the
// 112-byte union):
//
//	off size field    create   destroy  join  leave  pause/unpause  getinfo  list            gang
//	0   4    op       IN       IN       IN    IN     IN             IN       IN              IN
//	4   2    group    IN/OUT   IN       IN    -      IN             IN       IN(start)       -
//	6   2    domain   -        -        IN    IN     -              -        -               IN
//	8   4    arg      -        -        -     -      IN(k)/OUT(n)   -        IN(max)/OUT(n)  IN(0/1)
//	12  2    next     -        -        -     -      -              -        OUT             -
//	16  8    buffer   -        -        -     -      IN(order)      -        IN(ids)         -
//	24  40   info     -        -        -     -      -              OUT      -               -
//	64  8    sched    -        -        -     -      -              OUT      -               -
//	72  32   name     IN       -        -     -      -              IN/OUT   -               -
//	104 8    reserved (zero)
//
// The scheduling ops (policy 10, stats 11) and the sched field are in
// sched.go.
// create's group IN is the wanted id (0 = any free one) and OUT the id made;
// its name (GroupName: a-z 0-9 - _, NUL-padded, all zero for none) must be
// unique, and the null group is called "null".
// pause/unpause report how many members they acted on (the caller and dom0
// are skipped). Their optional order is buffer, the GVA of k u16 domain ids
// (k 0: none, at most GroupOrderMax), copied in before anything changes:
// the members are paused in that order, then the ones it does not name in
// join order, all or nothing (a failure unpauses the ones already paused,
// newest first). The order is always a pause order: unpause walks it
// backwards, and without one walks backwards the order of the pause that
// took the group's count from 0 (join order if it had none).
// getinfo: a name IN selects the group by name (group is then ignored);
// OUT: u16 id, u8 flags (1 null group, 2 paused), u8 group pause count, u32
// member count, the first 16 members in join order, and the group's name.
//
// Errors (errno): EPERM for pause/unpause/destroy of the null group (and any
// caller but dom0), ESRCH unknown group (id or name) or domain, EEXIST
// duplicate create (id or name), EBUSY destroy of a non-empty group, ENOSPC
// table full, EOVERFLOW a member or the group at 255 pauses, EINVAL bad op
// or argument (unpause at zero, a name that is not a valid one, an order
// longer than GroupOrderMax, naming a non-member or a member twice),
// EFAULT bad list or order buffer.
const (
	DomctlGroup = 90

	GroupCreate  = 1
	GroupDestroy = 2
	GroupJoin    = 3
	GroupLeave   = 4
	GroupPause   = 5
	GroupUnpause = 6
	GroupGetInfo = 7
	GroupList    = 8
	GroupSetGang = 9

	GroupArgsSize    = 104
	GroupInfoMembers = 16
	GroupFlagNull    = 1
	GroupFlagPaused  = 2
	GroupNameSize    = 32
	GroupOrderMax    = 4096
)

// GroupName is a group name as the union carries it: NUL-padded, with no
// NUL when it is GroupNameSize bytes long.
type GroupName [GroupNameSize]byte

// MakeGroupName packs s; false if it is too long or holds a NUL.
func MakeGroupName(s string) (GroupName, bool) {
	var n GroupName
	if len(s) > GroupNameSize || strings.IndexByte(s, 0) >= 0 {
		return n, false
	}
	copy(n[:], s)
	return n, true
}

// String is the name up to its first NUL.
func (n GroupName) String() string {
	if i := bytes.IndexByte(n[:], 0); i >= 0 {
		return string(n[:i])
	}
	return string(n[:])
}

// Padded reports whether every byte after the first NUL is NUL, as
// MakeGroupName leaves it; the hypervisor refuses other names (EINVAL).
func (n GroupName) Padded() bool {
	i := bytes.IndexByte(n[:], 0)
	return i < 0 || bytes.Count(n[i:], []byte{0}) == GroupNameSize-i
}

// GroupArgs is the decoded union of a group domctl.
type GroupArgs struct {
	Op     uint32
	Group  uint16
	Domain uint16
	Arg    uint32
	Next   uint16
	Buffer uint64
	Info   GroupInfo
	Name   GroupName
}

// GroupInfo is getinfo's answer.
type GroupInfo struct {
	ID       uint16
	Flags    uint8
	Pauses   uint8
	NMembers uint32
	Members  [GroupInfoMembers]uint16
	Sched    GroupSched // policy, its skew bound, the members' opt-ins (sched.go)
}

// DecodeGroup reads the union of a group domctl.
func DecodeGroup(u []byte) (GroupArgs, bool) {
	var g GroupArgs
	if len(u) < GroupArgsSize {
		return g, false
	}
	le := binary.LittleEndian
	g.Op, g.Group, g.Domain = le.Uint32(u), le.Uint16(u[4:]), le.Uint16(u[6:])
	g.Arg, g.Next, g.Buffer = le.Uint32(u[8:]), le.Uint16(u[12:]), le.Uint64(u[16:])
	g.Info.ID, g.Info.Flags, g.Info.Pauses = le.Uint16(u[24:]), u[26], u[27]
	g.Info.NMembers = le.Uint32(u[28:])
	for i := range g.Info.Members {
		g.Info.Members[i] = le.Uint16(u[32+2*i:])
	}
	g.Info.Sched = decodeGroupSched(u[64:72])
	copy(g.Name[:], u[72:104])
	return g, true
}

// Encode writes g into the union u (at least GroupArgsSize bytes).
func (g GroupArgs) Encode(u []byte) {
	le := binary.LittleEndian
	le.PutUint32(u, g.Op)
	le.PutUint16(u[4:], g.Group)
	le.PutUint16(u[6:], g.Domain)
	le.PutUint32(u[8:], g.Arg)
	le.PutUint16(u[12:], g.Next)
	le.PutUint64(u[16:], g.Buffer)
	le.PutUint16(u[24:], g.Info.ID)
	u[26], u[27] = g.Info.Flags, g.Info.Pauses
	le.PutUint32(u[28:], g.Info.NMembers)
	for i, m := range g.Info.Members {
		le.PutUint16(u[32+2*i:], m)
	}
	g.Info.Sched.encode(u[64:72])
	copy(u[72:104], g.Name[:])
}

// EncodeGroupIDs is list's buffer and pause's order: the ids as consecutive little-endian
// u16s.
func EncodeGroupIDs(ids []uint16) []byte {
	b := make([]byte, 2*len(ids))
	for i, id := range ids {
		binary.LittleEndian.PutUint16(b[2*i:], id)
	}
	return b
}

// DecodeGroupIDs reads n ids from list's buffer or an order (fewer if b is short).
func DecodeGroupIDs(b []byte, n int) []uint16 {
	n = min(n, len(b)/2)
	ids := make([]uint16, n)
	for i := range ids {
		ids[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return ids
}
