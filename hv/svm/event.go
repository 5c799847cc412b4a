package svm

// EVENTINJ and EXITINTINFO share one format (APM vol. 2, 15.20 "Event
// Injection", 15.7.2 "Intercepts During IDT Interrupt Delivery"):
// VECTOR in bits 0-7, TYPE in 8-10, EV (error code valid) bit 11, V
// (valid) bit 31, ERRORCODE in bits 32-63.
type Event uint64

const (
	EventV  Event = 1 << 31
	EventEV Event = 1 << 11

	EventTypeMask      Event = 7 << 8
	EventTypeINTR      Event = 0 << 8 // external or virtual interrupt
	EventTypeNMI       Event = 2 << 8
	EventTypeException Event = 3 << 8 // fault or trap
	EventTypeSoftInt   Event = 4 << 8 // INTn
)

// Exception is a valid exception event for vector, with an error code when
// ev is set.
func Exception(vector uint8, ev bool, errorCode uint32) Event {
	e := EventV | EventTypeException | Event(vector)
	if ev {
		e |= EventEV | Event(errorCode)<<32
	}
	return e
}

// Valid reports the V bit: only then do the other fields mean anything.
func (e Event) Valid() bool { return e&EventV != 0 }

// Vector is the VECTOR field.
func (e Event) Vector() uint8 { return uint8(e) }

// Type is the TYPE field (one of the EventType values).
func (e Event) Type() Event { return e & EventTypeMask }

// WithType returns e with its TYPE field replaced.
func (e Event) WithType(t Event) Event { return e&^EventTypeMask | t }

// IOIO is the decoded EXITINFO1 of an IOIO intercept (APM vol. 2, 15.10.2
// "IN and OUT Behavior", figure 15-2). EXITINFO2 holds the next RIP.
type IOIO struct {
	In, Str, Rep bool
	Size         int // operand size in bytes: 1, 2 or 4
	Port         uint16
}

// EXITINFO1 bits of an IOIO intercept (figure 15-2).
const (
	IOIOType      = 1 << 0 // 1 = IN, 0 = OUT
	IOIOStr       = 1 << 2 // INS/OUTS
	IOIORep       = 1 << 3 // REP prefix
	IOIOSz8       = 1 << 4
	IOIOSz16      = 1 << 5
	IOIOSz32      = 1 << 6
	IOIOPortShift = 16 // PORT in bits 16-31
)

// DecodeIOIO reads an IOIO intercept's EXITINFO1.
func DecodeIOIO(info uint64) IOIO {
	io := IOIO{In: info&IOIOType != 0, Str: info&IOIOStr != 0, Rep: info&IOIORep != 0,
		Size: 1, Port: uint16(info >> IOIOPortShift)}
	switch {
	case info&IOIOSz32 != 0:
		io.Size = 4
	case info&IOIOSz16 != 0:
		io.Size = 2
	}
	return io
}

// Encode is DecodeIOIO's inverse (for tests that fabricate exits).
func (io IOIO) Encode() uint64 {
	info := uint64(io.Port) << IOIOPortShift
	for _, b := range []struct {
		on  bool
		bit uint64
	}{{io.In, IOIOType}, {io.Str, IOIOStr}, {io.Rep, IOIORep},
		{io.Size == 1, IOIOSz8}, {io.Size == 2, IOIOSz16}, {io.Size == 4, IOIOSz32}} {
		if b.on {
			info |= b.bit
		}
	}
	return info
}

// EXITINFO1 of an MSR intercept (APM vol. 2, 15.11): 0 = RDMSR, 1 = WRMSR.
const (
	MSRRead  = 0
	MSRWrite = 1
)

// NMI is a valid non-maskable interrupt event (vector 2).
func NMI() Event { return EventV | EventTypeNMI | 2 }

// Interrupt is a valid external interrupt event with vector.
func Interrupt(vector uint8) Event { return EventV | EventTypeINTR | Event(vector) }
