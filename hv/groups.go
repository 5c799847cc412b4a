package hv

import (
	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
	"grove/rcu"
)

// Domain groups in the hypervisor: package domgrp over real domains. The
// domctl group command (one command, an op field) is the only way in; dom0
// is the only caller (domctl checks that first).

// readerSlot is the RCU reader slot of the scheduler loop running v's
// hypercall: one per CPU, each used by that CPU's loop alone.
func readerSlot(v *VCPU) int { return v.cpu }

// grpDomain adapts a Domain to domgrp.Domain (whose ID is a method; the
// Domain's is a field).
type grpDomain struct{ d *Domain }

func (g grpDomain) ID() domgrp.DomID { return domgrp.DomID(g.d.ID) }
func (g grpDomain) Pause() error     { return g.d.pauseCount1() }
func (g grpDomain) Unpause() error   { return g.d.Unpause() }
func (g grpDomain) WaitDescheduled() { g.d.waitDescheduled() }

// domctlGroup runs one group op for caller v.
func domctlGroup(v *VCPU, c *abi.Ctl) error {
	g, _ := abi.DecodeGroup(c.Union[:])
	h := v.dom.hv
	t := h.groups
	r := h.rcu.Reader(readerSlot(v))
	gid, dom := domgrp.GroupID(g.Group), domgrp.DomID(g.Domain)
	var err error
	switch g.Op {
	case abi.GroupCreate:
		err = groupCreate(t, &g)
	case abi.GroupDestroy:
		err = t.Destroy(gid)
	case abi.GroupJoin:
		err = h.joinGroup(r, dom, gid)
	case abi.GroupLeave:
		err = h.joinGroup(r, dom, domgrp.NullGroup)
	case abi.GroupPause, abi.GroupUnpause:
		err = groupPause(v, r, &g)
	case abi.GroupGetInfo:
		err = groupInfo(t, r, &g)
	case abi.GroupList:
		err = groupList(v, t, &g)
	case abi.GroupSetGang:
		err = h.setGang(r, dom, g.Arg != 0)
	case abi.GroupSetPolicy:
		err = h.setGroupPolicy(r, gid, domgrp.Policy(g.Arg), g.Buffer)
	case abi.GroupGetStats:
		err = groupStats(v, gid, g)
	default:
		err = errno.EINVAL
	}
	if err != nil {
		return err
	}
	g.Encode(c.Union[:])
	return nil
}

// groupCreate makes a group with the wanted id (0: any) and name.
func groupCreate(t *domgrp.Table, g *abi.GroupArgs) error {
	if !g.Name.Padded() {
		return errno.EINVAL
	}
	gid, err := t.CreateNamed(domgrp.GroupID(g.Group), g.Name.String())
	g.Group = uint16(gid)
	return err
}

// groupPause pauses or unpauses a group for caller v, in the order at
// g.Buffer when g.Arg names one, and reports the members acted on in
// g.Arg. The order is copied in before the group is touched, so a bad
// buffer changes nothing.
func groupPause(v *VCPU, r *rcu.Reader, g *abi.GroupArgs) error {
	if g.Arg > abi.GroupOrderMax {
		return errno.EINVAL
	}
	var order []domgrp.DomID
	if g.Arg > 0 {
		b, err := v.mem.copyIn(g.Buffer, 2*int(g.Arg))
		if err != nil {
			return errno.EFAULT
		}
		for _, id := range abi.DecodeGroupIDs(b, int(g.Arg)) {
			order = append(order, domgrp.DomID(id))
		}
	}
	t, gid := v.dom.hv.groups, domgrp.GroupID(g.Group)
	var n int
	var err error
	if g.Op == abi.GroupPause {
		n, err = t.PauseOrdered(r, domgrp.DomID(v.dom.ID), gid, order)
	} else {
		n, err = t.UnpauseOrdered(r, gid, order)
	}
	g.Arg = uint32(n)
	return err
}

// groupInfo describes the group g names: by name when it has one, else by
// id.
func groupInfo(t *domgrp.Table, r *rcu.Reader, g *abi.GroupArgs) error {
	var i domgrp.Info
	var err error
	switch name := g.Name.String(); {
	case !g.Name.Padded():
		return errno.EINVAL
	case name != "":
		i, err = t.GetInfoByName(r, name)
	default:
		i, err = t.GetInfo(r, domgrp.GroupID(g.Group))
	}
	if err != nil {
		return err
	}
	g.Info = abi.GroupInfo{ID: uint16(i.ID), Flags: i.Flags, Pauses: i.Pauses, NMembers: i.NMembers,
		Sched: abi.GroupSched{Policy: uint8(i.Policy), SkewUS: uint32(i.SkewNS / 1000)}}
	for k, m := range i.Members {
		g.Info.Members[k] = uint16(m)
		if i.Gang[k] {
			g.Info.Sched.Gang |= 1 << k
		}
	}
	g.Name, _ = abi.MakeGroupName(i.Name)
	return nil
}

// groupList writes up to g.Arg group ids >= g.Group to the caller's buffer.
func groupList(v *VCPU, t *domgrp.Table, g *abi.GroupArgs) error {
	if g.Arg > 256 {
		return errno.EINVAL
	}
	ids := make([]domgrp.GroupID, g.Arg)
	n, next, err := t.List(v.dom.hv.rcu.Reader(readerSlot(v)), domgrp.GroupID(g.Group), ids)
	if err != nil {
		return err
	}
	out := make([]uint16, n)
	for i, id := range ids[:n] {
		out[i] = uint16(id)
	}
	if v.mem.copyOut(g.Buffer, abi.EncodeGroupIDs(out)) != nil {
		return errno.EFAULT
	}
	g.Arg, g.Next = uint32(n), uint16(next)
	return nil
}

// groupStats copies group gid's scheduling counters to the caller's buffer
// (and zeroes them with StatsReset).
func groupStats(v *VCPU, gid domgrp.GroupID, g abi.GroupArgs) error {
	if g.Arg&^abi.StatsReset != 0 {
		return errno.EINVAL
	}
	st, err := v.dom.hv.groupStats(v.dom.hv.rcu.Reader(readerSlot(v)), gid, g.Arg&abi.StatsReset != 0)
	if err != nil {
		return err
	}
	if v.mem.copyOut(g.Buffer, st.Encode()) != nil {
		return errno.EFAULT
	}
	return nil
}
