//go:build groveguest

package main

import (
	"fmt"
	"slices"

	"grove/ctl/proto"
	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// Group names and ordered group pauses: group.create with a name,
// group.info by id or name with each member's name, state and flags, and
// group.pause/unpause with a pause order, handed to the hypervisor in one
// domctl (hv/abi/group.go).

// groupCreate makes a group with the wanted id (0: any) and name.
func groupCreate(g proto.GroupArgs) (proto.GroupID, error) {
	name, ok := abi.MakeGroupName(g.Name)
	if !ok {
		return proto.GroupID{}, fmt.Errorf("name longer than %d bytes: %w", abi.GroupNameSize, errno.EINVAL)
	}
	res, err := group(abi.GroupCreate, abi.GroupArgs{Group: uint16(g.Group), Name: name})
	return proto.GroupID{Group: int(res.Group)}, err
}

// groupPause pauses (op abi.GroupPause) or unpauses a group, in p's order
// when it has one: the ids go to the hypervisor in a buffer it copies in.
func groupPause(op uint32, p proto.PauseArgs) (proto.Count, error) {
	if err := p.Check(); err != nil {
		return proto.Count{}, err
	}
	args := abi.GroupArgs{Group: uint16(p.Group)}
	if len(p.Order) > 0 {
		buf := abi.EncodeGroupIDs(p.OrderIDs())
		kernel.Touch(buf)
		args.Arg, args.Buffer = uint32(len(p.Order)), gva(buf)
	}
	res, err := group(op, args)
	return proto.Count{Count: int(res.Arg)}, err
}

// groupInfoOf is group.info: the group by name or id, its members named
// and flagged from the domain list.
func groupInfoOf(g proto.GroupArgs) (proto.GroupInfo, error) {
	name, ok := abi.MakeGroupName(g.Name)
	if !ok {
		return proto.GroupInfo{}, errno.ESRCH // no group has a name that long
	}
	res, err := group(abi.GroupGetInfo, abi.GroupArgs{Group: uint16(g.Group), Name: name})
	if err != nil {
		return proto.GroupInfo{}, err
	}
	info := infoOf(res)
	doms, err := domains()
	if err != nil {
		return proto.GroupInfo{}, err
	}
	info.MemberInfo = memberInfo(info, doms)
	return info, nil
}

// infoOf is getinfo's answer as group.info reports it, without member
// details.
func infoOf(res abi.GroupArgs) proto.GroupInfo {
	i := res.Info
	members := []int{}
	for _, m := range i.Members[:min(int(i.NMembers), abi.GroupInfoMembers)] {
		members = append(members, int(m))
	}
	out := proto.GroupInfo{ID: int(i.ID), Name: res.Name.String(), Members: members,
		Paused: i.Flags&abi.GroupFlagPaused != 0, PauseCount: int(i.Pauses), Flags: uint32(i.Flags)}
	schedInfo(&out, i.Sched)
	return out
}

// memberInfo names and flags info's members from the domain list.
func memberInfo(info proto.GroupInfo, doms []abi.DomainInfo) []proto.MemberInfo {
	byID := map[int]abi.DomainInfo{}
	for _, d := range doms {
		byID[int(d.Domain)] = d
	}
	out := []proto.MemberInfo{}
	for _, id := range info.Members {
		m := proto.MemberInfo{ID: id, Name: byID[id].Name, State: stateName(byID[id].Flags), Flags: []string{}}
		if slices.Contains(info.Gang, id) {
			m.Flags = append(m.Flags, proto.MemberGang)
		}
		if byID[id].Flags&abi.InfoPrivileged != 0 {
			m.Flags = append(m.Flags, proto.MemberControl)
		}
		out = append(out, m)
	}
	return out
}
