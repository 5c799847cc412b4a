//go:build groveguest

package main

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"grove/ctl/proto"
	"grove/hv/abi"
	"grove/kernel"
)

// watchEvents polls the hypervisor's event queue (event_op never blocks:
// a blocked vCPU would stop the whole agent) and forwards events to the
// host once it subscribed.
func watchEvents(enc *proto.Encoder) {
	buf := make([]byte, abi.EventSize)
	for {
		kernel.Touch(buf)
		r := kernel.Hypercall(abi.EventOp, abi.EventPoll, uintptr(unsafe.Pointer(&buf[0])), 0)
		if r != 1 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		ev := decodeEvent(buf)
		fmt.Printf("agent: event %s d%d %s\n", ev.Kind, ev.Domain, ev.Reason)
		if subscribed.Load() {
			enc.Encode(ev)
		}
	}
}

func decodeEvent(b []byte) proto.Event {
	le := binary.LittleEndian
	kind := map[uint32]string{abi.EventCrashed: proto.EventCrashed, abi.EventShutdown: proto.EventShutdown,
		abi.EventPaused: proto.EventPaused, abi.EventUnpaused: proto.EventUnpaused}[le.Uint32(b)]
	reason := b[16 : abi.EventSize-1]
	n := 0
	for n < len(reason) && reason[n] != 0 {
		n++
	}
	dom := int(le.Uint16(b[4:]))
	g := 0
	if ids, err := groupList(); err == nil {
		for _, id := range ids {
			if gi, err := groupInfo(int(id)); err == nil {
				for _, m := range gi.Members {
					if m == dom {
						g = int(id)
					}
				}
			}
		}
	}
	return proto.Event{Kind: kind, Domain: dom, Group: g, Reason: string(reason[:n])}
}
