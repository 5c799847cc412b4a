package abi

import "encoding/binary"

// event_op (Grove, number 48): the control domain takes domain events.
// event_op(EventPoll, buffer GVA) returns 1 and fills the 128-byte buffer,
// or 0 if there is none; -EPERM for other domains, -EINVAL for an unknown
// command, -EFAULT for a bad buffer (the event stays queued). Rather than
// poll, the domain binds VIRQDomExc (virq.go: event_op(EventBindVIRQ)) and
// drains the queue when it interrupts. Buffer layout, all OUT:
//
//	offset size field
//	0      4    kind (EventCrashed, ...)
//	4      2    domain
//	6      2    group: the domain's group when the event was taken (0: the
//	            null group, or the domain is gone)
//	8      4    lost: events dropped before this one (queue overflow)
//	12     4    padding
//	16     112  reason, NUL-terminated (at most EventReasonMax bytes)
const (
	EventOp        = 48
	EventPoll      = 0
	EventSize      = 128
	EventReasonOff = 16
	EventReasonMax = EventSize - EventReasonOff - 1

	EventCrashed  = 1
	EventShutdown = 2
	EventPaused   = 3
	EventUnpaused = 4
)

// Event is one event_op result.
type Event struct {
	Kind   uint32
	Domain uint16
	Group  uint16
	Lost   uint32
	Reason string // cut to EventReasonMax bytes by Encode
}

// Encode writes e into b (at least EventSize bytes, padding left as is).
func (e Event) Encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b, e.Kind)
	le.PutUint16(b[4:], e.Domain)
	le.PutUint16(b[6:], e.Group)
	le.PutUint32(b[8:], e.Lost)
	r := b[EventReasonOff:EventSize]
	clear(r)
	copy(r[:EventReasonMax], e.Reason)
}

// DecodeEvent reads an event_op buffer.
func DecodeEvent(b []byte) (Event, bool) {
	if len(b) < EventSize {
		return Event{}, false
	}
	le := binary.LittleEndian
	return Event{Kind: le.Uint32(b), Domain: le.Uint16(b[4:]), Group: le.Uint16(b[6:]), Lost: le.Uint32(b[8:]),
		Reason: cString(b[EventReasonOff : EventReasonOff+EventReasonMax])}, true
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	return string(b[:n])
}
