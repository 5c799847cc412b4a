package abi

import (
	"encoding/binary"

	"grove/errno"
)

// Virtual IRQs (Xen's bind_virq): the control domain binds a source in the
// hypervisor to a vector on one of its own vCPUs and is interrupted instead
// of polling. event_op(EventBindVIRQ, buffer GVA) with a VIRQBind (layout
// below, all IN) returns 0 or:
//
//	-EPERM   the caller is not the control domain
//	-EFAULT  the buffer is not mapped
//	-EINVAL  unknown VIRQ, vector 1..31, reserved bytes not zero
//	-ENOENT  the domain has no such vCPU
//	-ENODEV  VIRQSerial: the machine's COM2 interrupt cannot be routed
//	         (no IOAPIC for it in the MADT, or a level-triggered override)
//
// Vector 0 unbinds. Binding again moves the VIRQ. The sources:
//
//   - VIRQDomExc (Xen's VIRQ_DOM_EXC, same number): a domain event was
//     queued for event_op(EventPoll). Raised at every event and at the
//     bind if events wait already; raises while the vector is pending
//     merge into one, so the handler drains event_op until it returns 0.
//   - VIRQSerial (Grove's): the machine's second UART (COM2, ISA IRQ 3,
//     the host tool's channel) interrupted. Binding it also hands the
//     UART's ports (0x2f8-0x2ff) to the caller: they stop exiting, as its
//     driver needs the hypervisor for nothing but the interrupt; unbinding
//     intercepts them again. The line is edge-triggered: the driver must
//     empty the receive FIFO (LSR.DR clear) before it waits again, and
//     enable only the interrupts it clears (IER receive-data).
//
// Layout:
//
//	offset size field
//	0      4    virq (VIRQDomExc, VIRQSerial)
//	4      4    vcpu: which of the caller's vCPUs takes the interrupt
//	8      1    vector: 32..255, or 0 to unbind
//	9      7    reserved, zero
const (
	EventBindVIRQ = 1 // event_op command (EventPoll is 0)
	VIRQBindSize  = 16

	VIRQDomExc = 3
	VIRQSerial = 16 // Xen's first architecture-specific VIRQ number
	NumVIRQs   = 24 // Xen's NR_VIRQS
)

// VIRQBind is event_op(EventBindVIRQ)'s argument.
type VIRQBind struct {
	VIRQ     uint32
	VCPU     uint32
	Vector   uint8
	reserved [7]byte
}

// Encode writes b into buf (at least VIRQBindSize bytes).
func (b VIRQBind) Encode(buf []byte) {
	le := binary.LittleEndian
	le.PutUint32(buf, b.VIRQ)
	le.PutUint32(buf[4:], b.VCPU)
	buf[8] = b.Vector
	copy(buf[9:VIRQBindSize], b.reserved[:])
}

// DecodeVIRQBind reads a VIRQBind; false if buf is short.
func DecodeVIRQBind(buf []byte) (VIRQBind, bool) {
	if len(buf) < VIRQBindSize {
		return VIRQBind{}, false
	}
	le := binary.LittleEndian
	b := VIRQBind{VIRQ: le.Uint32(buf), VCPU: le.Uint32(buf[4:]), Vector: buf[8]}
	copy(b.reserved[:], buf[9:VIRQBindSize])
	return b, true
}

// Validate checks what does not depend on the caller: a known VIRQ, a
// vector outside the exceptions, zero reserved bytes (EINVAL otherwise).
func (b VIRQBind) Validate() error {
	switch {
	case b.VIRQ != VIRQDomExc && b.VIRQ != VIRQSerial:
		return errno.EINVAL
	case b.Vector != 0 && b.Vector < MinIPIVector:
		return errno.EINVAL
	case b.reserved != [7]byte{}:
		return errno.EINVAL
	}
	return nil
}
