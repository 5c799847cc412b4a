package hv

import (
	"encoding/binary"
	"sync"

	"grove/errno"
	"grove/hv/abi"
)

// Domain events for the control domain: the hypervisor queues them (crash,
// shutdown, pause, unpause) and dom0 polls with event_op, a Grove hypercall
// that never blocks (a blocked vCPU would stop the whole agent). The queue
// is bounded; when it overflows the oldest events go and the next event
// reports how many were lost.

const maxEvents = 64

type event struct {
	kind   uint32
	domain DomID
	reason string
}

type eventQueue struct {
	mu      sync.Mutex
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

func init() { hypercalls[abi.EventOp] = hcallEventOp }

// hcallEventOp(poll, buffer): copies the next event to buffer and returns
// 1, or returns 0 when there is none. Only the control domain may poll.
func hcallEventOp(v *VCPU, a [5]uint64) (int64, outcome, string) {
	if !v.dom.Privileged {
		return errno.EPERM.Ret(), resume, ""
	}
	if a[0] != abi.EventPoll {
		return errno.EINVAL.Ret(), resume, ""
	}
	ev, lost, ok := v.dom.hv.events.pop()
	if !ok {
		return 0, resume, ""
	}
	b := make([]byte, abi.EventSize)
	le := binary.LittleEndian
	le.PutUint32(b, ev.kind)
	le.PutUint16(b[4:], uint16(ev.domain))
	le.PutUint32(b[8:], lost)
	copy(b[16:abi.EventSize-1], ev.reason)
	if v.copyOut(a[1], b) != nil {
		v.dom.hv.events.push(ev) // not delivered: keep it (at the back)
		return errno.EFAULT.Ret(), resume, ""
	}
	return 1, resume, ""
}
