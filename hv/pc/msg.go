package pc

// Msg is an interrupt message on a domain's APIC bus: what an IOAPIC
// redirection entry or a local APIC's ICR sends (Intel SDM vol. 3, 10.6 and
// 10.11; AMD APM vol. 2, 16.5 name the same fields).
type Msg struct {
	Vector    uint8
	Mode      DeliveryMode
	Dest      uint32 // APIC id (physical) or logical destination (Logical)
	Logical   bool   // destination mode
	Level     bool   // trigger mode: level (an EOI goes back to the source)
	Shorthand Shorthand
	Src       uint32 // sending APIC id (for the "all excluding self" shorthand)
}

// DeliveryMode is the ICR / redirection-entry delivery mode field.
type DeliveryMode uint8

const (
	ModeFixed      DeliveryMode = 0
	ModeLowestPrio DeliveryMode = 1
	ModeSMI        DeliveryMode = 2
	ModeNMI        DeliveryMode = 4
	ModeINIT       DeliveryMode = 5
	ModeStartup    DeliveryMode = 6
	ModeExtINT     DeliveryMode = 7
)

// Shorthand is the ICR destination shorthand.
type Shorthand uint8

const (
	ToDest       Shorthand = 0
	ToSelf       Shorthand = 1
	ToAll        Shorthand = 2
	ToAllButSelf Shorthand = 3
)

// Sink takes interrupt messages: the domain's APIC bus (bus.go). EOI tells
// the sources of level-triggered interrupts (the IOAPIC) that vector was
// serviced, as a local APIC's EOI broadcast does.
type Sink interface {
	Send(m Msg)
}

// EOIListener is told of every EOI of a level-triggered vector.
type EOIListener interface {
	EOI(vector uint8)
}
