package pc

import (
	"fmt"
	"sync/atomic"
)

// The domain's APIC bus: every interrupt message (IOAPIC redirection,
// local APIC IPI) goes through Send, which finds the addressed local APICs
// (SDM vol. 3, 10.6.2 "Determining IPI Destination"), delivers to each and
// kicks its vCPU. APIC ids are vCPU indexes, so a domain has at most 255
// vCPUs: id 0xFF stays the xAPIC broadcast.

// MaxVCPUs is the most local APICs a Bus holds.
const MaxVCPUs = 255

// Bus is a domain's APIC bus. It implements Sink for the IOAPIC and the
// local APICs, and EOIListener for the local APICs' level-triggered EOIs,
// which it passes to every listener (the IOAPIC).
type Bus struct {
	lapics    []*LAPIC
	kick      func(vcpu int)
	listeners []EOIListener // set before the domain runs, then read-only
	rr        atomic.Uint32 // where the lowest-priority tie-break starts
}

// NewBus makes the bus of a domain with n vCPUs and their local APICs
// (id = vCPU index, vCPU 0 the BSP). kick(vcpu) is called, without any
// lock held, after a message was delivered to that vCPU's APIC: it must
// make a running vCPU exit and a halted one wake, so it looks at Pending
// and the Take methods.
func NewBus(n int, clock Clock, kick func(vcpu int)) (*Bus, error) {
	if n < 1 || n > MaxVCPUs {
		return nil, fmt.Errorf("apic bus: %d vCPUs, want 1 to %d", n, MaxVCPUs)
	}
	if kick == nil {
		kick = func(int) {}
	}
	b := &Bus{kick: kick, lapics: make([]*LAPIC, n)}
	for i := range b.lapics {
		b.lapics[i] = NewLAPIC(uint32(i), clock, b, b)
	}
	return b, nil
}

// LAPIC returns vCPU i's local APIC.
func (b *Bus) LAPIC(i int) *LAPIC { return b.lapics[i] }

// AddEOIListener adds a source of level-triggered interrupts to tell of
// EOIs. Call it while the domain is built, before any vCPU runs.
func (b *Bus) AddEOIListener(l EOIListener) { b.listeners = append(b.listeners, l) }

// EOI passes a local APIC's level-triggered EOI to every listener.
func (b *Bus) EOI(vector uint8) {
	for _, l := range b.listeners {
		l.EOI(vector)
	}
}

// Send delivers m to the local APICs it addresses. A lowest-priority
// message goes to one of them: the one with the lowest processor priority
// (PPR), ties taken in turn (round robin). Messages to APICs the domain
// does not have are dropped.
func (b *Bus) Send(m Msg) {
	dst := b.route(m)
	if m.Mode == ModeLowestPrio {
		dst = b.lowestPriority(dst)
	}
	for i, l := range b.lapics {
		if dst.has(i) && l.Deliver(m) {
			b.kick(i)
		}
	}
}

// apicSet is a set of APIC ids.
type apicSet [4]uint64

func (s *apicSet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s *apicSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// route returns the APICs m is addressed to.
func (b *Bus) route(m Msg) apicSet {
	var s apicSet
	for i, l := range b.lapics {
		if b.addressed(m, i, l) {
			s.add(i)
		}
	}
	return s
}

func (b *Bus) addressed(m Msg, i int, l *LAPIC) bool {
	switch m.Shorthand {
	case ToSelf:
		return uint32(i) == m.Src
	case ToAll:
		return true
	case ToAllButSelf:
		return uint32(i) != m.Src
	}
	if m.Logical {
		return l.matchLogical(m.Dest)
	}
	// 0xFF is the xAPIC broadcast, 0xFFFFFFFF the x2APIC one; no APIC has
	// either id (MaxVCPUs), so both mean everyone whatever the modes.
	return m.Dest == uint32(i) || m.Dest == 0xFF || m.Dest == 0xFFFFFFFF
}

// matchLogical reports whether the logical destination dest selects this
// APIC (SDM vol. 3, 10.6.2.2): in x2APIC mode by cluster and bit of the
// derived LDR; in xAPIC mode by the flat or cluster model the DFR picks.
func (l *LAPIC) matchLogical(dest uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.hwEnabledLocked() {
		return false
	}
	if l.x2apicLocked() {
		return dest == 0xFFFFFFFF ||
			dest>>16 == l.ldr>>16 && dest&l.ldr&0xFFFF != 0
	}
	d, id := dest&0xFF, l.ldr>>24
	switch {
	case d == 0xFF:
		return true
	case l.dfr>>28 == 0xF: // flat: one bit per APIC
		return d&id != 0
	case l.dfr>>28 == 0: // cluster: cluster in 7:4, one of 4 in 3:0
		return (d>>4 == id>>4 || d>>4 == 0xF) && d&id&0xF != 0
	}
	return false
}

// lowestPriority keeps the one APIC of dst that takes a lowest-priority
// message: a software-enabled one with the lowest PPR, the first found
// from a rotating start on a tie.
func (b *Bus) lowestPriority(dst apicSet) apicSet {
	n := len(b.lapics)
	start := int(b.rr.Add(1)) % n
	best, bestPPR := -1, uint32(0)
	for k := range n {
		i := (start + k) % n
		if !dst.has(i) {
			continue
		}
		ppr, ok := b.lapics[i].arbitrationPriority()
		if ok && (best < 0 || ppr < bestPPR) {
			best, bestPPR = i, ppr
		}
	}
	var s apicSet
	if best >= 0 {
		s.add(best)
	}
	return s
}

// arbitrationPriority is the priority class the APIC competes with for a
// lowest-priority message, ok false if it cannot take one.
func (l *LAPIC) arbitrationPriority() (uint32, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pprLocked() >> 4, l.enabledLocked()
}
