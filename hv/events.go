package hv

import (
	"sync"

	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
)

// Domain events for the control domain: the hypervisor queues them (crash,
// shutdown, pause, unpause; queueEventLocked, which also raises VIRQDomExc
// where dom0 bound it) and dom0 takes them with event_op, a Grove hypercall
// that never blocks (a blocked vCPU would stop the whole agent). The queue
// is bounded; when it overflows the oldest events go and the next event
// reports how many were lost.

// maxEvents holds the burst of a group pause of every domain a 2 GiB
// machine can hold (each takes at least 2 MiB): one hypercall queues them
// all before dom0 can take any.
const maxEvents = 1024

type event struct {
	kind   uint32
	domain DomID
	reason string
}

type eventQueue struct {
	mu      sync.Mutex // a leaf lock (doc.go)
	q       []event
	dropped uint32
}

func (e *eventQueue) push(ev event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.q) == maxEvents {
		e.q = e.q[1:]
		e.dropped++
	}
	e.q = append(e.q, ev)
}

func (e *eventQueue) len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.q)
}

func (e *eventQueue) pop() (event, uint32, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.q) == 0 {
		return event{}, 0, false
	}
	ev, lost := e.q[0], e.dropped
	e.q, e.dropped = e.q[1:], 0
	return ev, lost, true
}

// hcallEventOp(poll, buffer): copies the next event to buffer (abi.Event)
// and returns 1, or returns 0 when there is none. Only the control domain
// may poll.
func hcallEventOp(v *VCPU, x *exitState, a [5]uint64) (int64, outcome) {
	if !v.dom.Privileged {
		return errno.EPERM.Ret(), resume
	}
	switch a[0] {
	case abi.EventBindVIRQ:
		return eventBindVIRQ(v, a[1]), resume
	case abi.EventPoll:
	default:
		return errno.EINVAL.Ret(), resume
	}
	ev, lost, ok := v.dom.hv.events.pop()
	if !ok {
		return 0, resume
	}
	h := v.dom.hv
	g, _ := h.groups.GroupOf(h.rcu.Reader(readerSlot(v)), domgrp.DomID(ev.domain))
	b := make([]byte, abi.EventSize)
	abi.Event{Kind: ev.kind, Domain: uint16(ev.domain), Group: uint16(g), Lost: lost, Reason: ev.reason}.Encode(b)
	if v.mem.copyOut(a[1], b) != nil {
		v.dom.hv.events.push(ev) // not delivered: keep it (at the back)
		return errno.EFAULT.Ret(), resume
	}
	return 1, resume
}
