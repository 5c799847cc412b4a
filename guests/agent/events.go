//go:build groveguest

package main

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"grove/ctl/proto"
	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// watchEvents takes domain events from the hypervisor's queue and forwards
// them to the host once it subscribed. event_op never blocks (a blocked
// vCPU would stop the whole agent): the agent drains it whenever VIRQDomExc
// interrupts, or, with poll (or if the binding fails), every 50 ms.
func watchEvents(poll bool) {
	if !poll {
		if err := bindVIRQ(abi.VIRQDomExc, eventVec); err != nil {
			fmt.Printf("agent: events: %v; polling\n", err)
			poll = true
		}
	}
	buf := make([]byte, abi.EventSize)
	for {
		kernel.Touch(buf)
		r := kernel.Hypercall(abi.EventOp, abi.EventPoll, uintptr(gva(buf)), 0)
		switch {
		case r == 1:
			forward(buf)
			// A hypercall does not give up the agent's one P: yield, so a
			// request that came meanwhile (its reader woke on COM2's
			// interrupt) is not answered only after the whole burst.
			runtime.Gosched()
		case poll:
			time.Sleep(50 * time.Millisecond)
		default: // drained: raised again by the next event, or already
			kernel.WaitIRQ(eventVec, 0)
		}
	}
}

// forward reports the event in buf on the console and to the host, and
// carries out the reactions it triggers.
func forward(buf []byte) {
	e, _ := abi.DecodeEvent(buf)
	ev := decodeEvent(e)
	if e.Lost > 0 {
		fmt.Printf("agent: %d events lost before this one\n", e.Lost)
	}
	fmt.Printf("agent: event %s d%d %s\n", ev.Kind, ev.Domain, ev.Reason)
	if enc := subscriber.Load(); enc != nil {
		enc.Encode(ev)
	}
	react(ev)
}

func decodeEvent(e abi.Event) proto.Event {
	kind := map[uint32]string{abi.EventCrashed: proto.EventCrashed, abi.EventShutdown: proto.EventShutdown,
		abi.EventPaused: proto.EventPaused, abi.EventUnpaused: proto.EventUnpaused}[e.Kind]
	return proto.Event{Kind: kind, Domain: int(e.Domain), Group: int(e.Group), Reason: e.Reason}
}

// Reactions: standing policy from `grovectl apply`, carried out here so it
// works with no host tool attached.
var (
	reactMu   sync.Mutex
	reactions []proto.Reaction
)

func setReactions(rs []proto.Reaction) error {
	for _, r := range rs {
		switch r.Do {
		case "pause-group", "destroy-group", "destroy-domain", "nothing":
		default:
			return fmt.Errorf("reaction %q: %w", r.Do, errno.EINVAL)
		}
		if _, err := groupInfo(r.Group); err != nil || r.Group == 0 {
			return fmt.Errorf("reaction on group %d: %w", r.Group, errno.ESRCH)
		}
		if err := (proto.PauseArgs{Group: r.Group, Order: r.Order}).Check(); err != nil {
			return fmt.Errorf("reaction on group %d: %w", r.Group, err)
		}
	}
	reactMu.Lock()
	reactions = rs
	reactMu.Unlock()
	fmt.Printf("agent: %d reactions set\n", len(rs))
	return nil
}

func react(ev proto.Event) {
	reactMu.Lock()
	rs := reactions
	reactMu.Unlock()
	for _, r := range rs {
		if r.On != ev.Kind || r.Group != ev.Group || ev.Group == 0 {
			continue
		}
		fmt.Printf("agent: reaction: d%d %s in group %d: %s\n", ev.Domain, ev.Kind, r.Group, r.Do)
		var err error
		switch r.Do {
		case "pause-group":
			_, err = groupPause(abi.GroupPause, proto.PauseArgs{Group: r.Group, Order: r.Order})
		case "destroy-domain":
			err = ctl(abi.DomctlDestroy, uint16(ev.Domain))
		case "destroy-group":
			err = destroyGroup(r.Group)
		}
		if err != nil {
			fmt.Printf("agent: reaction %s: %v\n", r.Do, err)
		}
	}
}

// destroyGroup destroys every member but the agent's own domain, then the
// group.
func destroyGroup(id int) error {
	gi, err := groupInfo(id)
	if err != nil {
		return err
	}
	for _, m := range gi.Members {
		if m != 0 {
			if err := ctl(abi.DomctlDestroy, uint16(m)); err != nil {
				return fmt.Errorf("domain %d: %w", m, err)
			}
		}
	}
	if slices.Contains(gi.Members, 0) {
		group(abi.GroupLeave, abi.GroupArgs{Domain: 0})
	}
	_, err = group(abi.GroupDestroy, abi.GroupArgs{Group: uint16(id)})
	return err
}
