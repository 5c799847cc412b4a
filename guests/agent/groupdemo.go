//go:build groveguest

package main

import (
	"fmt"
	"time"

	"grove/hv/abi"
)

// groupDemo exercises group control (domctl group) on domains 1 and 2 and
// prints every result: the QEMU tests read these lines.
func groupDemo() {
	time.Sleep(2 * time.Second) // let the boot-time domains come up
	show := func(what string, op uint32, args abi.GroupArgs) abi.GroupArgs {
		res, err := group(op, args)
		fmt.Printf("agent: %s -> %s\n", what, errText(err))
		return res
	}
	res := show("group create", abi.GroupCreate, abi.GroupArgs{})
	g := res.Group
	fmt.Printf("agent: created group %d\n", g)
	show("group create again", abi.GroupCreate, abi.GroupArgs{Group: g})
	show("join d1", abi.GroupJoin, abi.GroupArgs{Group: g, Domain: 1})
	show("join d2", abi.GroupJoin, abi.GroupArgs{Group: g, Domain: 2})
	show("join d0", abi.GroupJoin, abi.GroupArgs{Group: g, Domain: 0})
	res = show("group pause", abi.GroupPause, abi.GroupArgs{Group: g})
	fmt.Printf("agent: group pause acted on %d members\n", res.Arg)
	info := show("group info", abi.GroupGetInfo, abi.GroupArgs{Group: g}).Info
	fmt.Printf("agent: group %d flags=%d pauses=%d members=%v\n", info.ID, info.Flags, info.Pauses, info.Members[:info.NMembers])
	time.Sleep(1500 * time.Millisecond)
	res = show("group unpause", abi.GroupUnpause, abi.GroupArgs{Group: g})
	fmt.Printf("agent: group unpause acted on %d members\n", res.Arg)
	show("group unpause again", abi.GroupUnpause, abi.GroupArgs{Group: g})
	show("pause null group", abi.GroupPause, abi.GroupArgs{Group: 0})
	show("pause group 200", abi.GroupPause, abi.GroupArgs{Group: 200})
	show("destroy non-empty", abi.GroupDestroy, abi.GroupArgs{Group: g})
	res = show("second group", abi.GroupCreate, abi.GroupArgs{})
	show("move d2", abi.GroupJoin, abi.GroupArgs{Group: res.Group, Domain: 2})
	for _, id := range []uint16{g, res.Group} {
		i := show(fmt.Sprintf("info %d", id), abi.GroupGetInfo, abi.GroupArgs{Group: id}).Info
		fmt.Printf("agent: group %d members=%v\n", id, i.Members[:i.NMembers])
	}
	ids, err := groupList()
	fmt.Printf("agent: groups %v %s\n", ids, errText(err))
	show("leave d1", abi.GroupLeave, abi.GroupArgs{Domain: 1})
	show("leave d0", abi.GroupLeave, abi.GroupArgs{Domain: 0})
	show("destroy emptied", abi.GroupDestroy, abi.GroupArgs{Group: g})
}
