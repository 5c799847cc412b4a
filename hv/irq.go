package hv

import "math/bits"

// Virtual interrupts. Grove's guests have no virtual APIC yet: a vCPU has a
// set of pending vectors (like an APIC's IRR), raised by its timer and by
// other vCPUs (vcpu_op send_ipi), and delivered one at a time through SVM's
// virtual interrupt (V_IRQ, APM vol. 2, 15.21.4), highest vector first.
// A vector raised again while it waits is delivered once, as on hardware.

// irqState is a vCPU's pending and in-flight interrupt. Guarded by the
// scheduler's mu.
type irqState struct {
	pending  [4]uint64 // bit v: vector v waits to be injected
	injected uint8     // vector set in V_IRQ and not yet taken (0 = none)
}

// raise marks vec pending.
func (q *irqState) raise(vec uint8) { q.pending[vec/64] |= 1 << (vec % 64) }

// isPending reports that vec waits to be injected.
func (q *irqState) isPending(vec uint8) bool { return q.pending[vec/64]&(1<<(vec%64)) != 0 }

// waiting reports an interrupt the guest has not taken yet.
func (q *irqState) waiting() bool {
	return q.injected != 0 || q.pending != [4]uint64{}
}

// next moves the highest pending vector into flight (if none is) and
// returns the vector to offer the guest, 0 for none.
func (q *irqState) next() uint8 {
	if q.injected != 0 {
		return q.injected
	}
	for i := len(q.pending) - 1; i >= 0; i-- {
		if w := q.pending[i]; w != 0 {
			b := 63 - bits.LeadingZeros64(w)
			q.pending[i] &^= 1 << b
			q.injected = uint8(i*64 + b)
			return q.injected
		}
	}
	return 0
}

// taken records that the guest took the in-flight vector.
func (q *irqState) taken() { q.injected = 0 }
