package abi

import "encoding/binary"

// Group control is one domctl command, DomctlGroup, whose union starts with
// an op (there is no group hypercall). Union layout (offsets within the
// 112-byte union):
//
//	off size field    create   destroy  join  leave  pause  unpause getinfo list  gang
//	0   4    op       IN       IN       IN    IN     IN     IN      IN      IN    IN
//	4   2    group    IN/OUT   IN       IN    -      IN     IN      IN      IN(start) -
//	6   2    domain   -        -        IN    IN     -      -       -       -     IN
//	8   4    arg      -        -        -     -      OUT(n) OUT(n)  -       IN(max)/OUT(n) IN(0/1)
//	12  2    next     -        -        -     -      -      -       -       OUT   -
//	16  8    buffer   -        -        -     -      -      -       -       IN (GVA of u16[max]) -
//	24  40   info     -        -        -     -      -      -       OUT     -     -
//	64  8    sched    -        -        -     -      -      -       OUT     -     -
//
// The scheduling ops (policy 10, stats 11) and the sched field are in
// sched.go.
// create's group IN is the wanted id (0 = any free one) and OUT the id made.
// pause/unpause report how many members they acted on (the caller and dom0
// are skipped). info: u16 id, u8 flags (1 null group, 2 paused), u8 group
// pause count, u32 member count, then the first 16 members in join order.
//
// Errors (errno): EPERM for pause/unpause/destroy of the null group (and any
// caller but dom0), ESRCH unknown group or domain, EEXIST duplicate create,
// EBUSY destroy of a non-empty group, ENOSPC table full, EOVERFLOW a member
// or the group at 255 pauses, EINVAL bad op or argument (unpause at zero),
// EFAULT bad list buffer.
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

	GroupArgsSize    = 72
	GroupInfoMembers = 16
	GroupFlagNull    = 1
	GroupFlagPaused  = 2
)

// GroupArgs is the decoded union of a group domctl.
type GroupArgs struct {
	Op     uint32
	Group  uint16
	Domain uint16
	Arg    uint32
	Next   uint16
	Buffer uint64
	Info   GroupInfo
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
}

// EncodeGroupIDs is list's buffer: the ids as consecutive little-endian
// u16s.
func EncodeGroupIDs(ids []uint16) []byte {
	b := make([]byte, 2*len(ids))
	for i, id := range ids {
		binary.LittleEndian.PutUint16(b[2*i:], id)
	}
	return b
}

// DecodeGroupIDs reads n ids from list's buffer (fewer if b is short).
func DecodeGroupIDs(b []byte, n int) []uint16 {
	n = min(n, len(b)/2)
	ids := make([]uint16, n)
	for i := range ids {
		ids[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return ids
}
