package pc

import (
	"fmt"
	"strings"
)

// One-line summaries of the devices' interrupt state, for the prompt's
// "state" command: what to look at when a guest waits for an interrupt
// that never comes. Each is a snapshot under the device's lock.

// State summarises the UART's registers and its interrupt line.
func (u *UART) State() string {
	u.irqMu.Lock()
	line := u.line
	u.irqMu.Unlock()
	u.mu.Lock()
	defer u.mu.Unlock()
	return fmt.Sprintf("ier=%#x iir=%#x mcr=%#x lcr=%#x fifo=%v trigger=%d rx=%d thre-pending=%v line=%v dropped=%d",
		u.ier, u.intIDLocked(), u.mcr, u.lcr, u.fifoOn, u.trigger, u.rxN, u.thrPending, line, u.dropped)
}

// PinState summarises pin n's redirection entry and input.
func (a *IOAPIC) PinState(n int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.red[n]
	return fmt.Sprintf("pin%d vector=%#x mode=%d dest=%#x logical=%v level=%v masked=%v remote-irr=%v asserted=%v latched=%v",
		n, e&redVector, e&redDelMod>>8, e>>redDestShift, e&redDestMod != 0, e&redTrigger != 0,
		e&redMask != 0, e&redRemoteIRR != 0, a.asserted[n], a.latched[n])
}

// State summarises the APIC's enable state, priorities, requested and
// in-service vectors and timer.
func (l *LAPIC) State(now int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	timer := "off"
	switch {
	case l.timer.tscDeadline != 0:
		timer = fmt.Sprintf("tsc-deadline=%#x", l.timer.tscDeadline)
	case l.timer.next != 0:
		timer = fmt.Sprintf("in %dus period=%dus", (l.timer.next-now)/1000, l.timer.period/1000)
	}
	return fmt.Sprintf("enabled=%v x2apic=%v tpr=%#x ppr=%#x irr=%s isr=%s lvt-timer=%#x timer %s nmi=%v",
		l.enabledLocked(), l.x2apicLocked(), l.tpr, l.pprLocked(), l.irr, l.isr, l.lvt[lvtTimer], timer, l.nmi)
}

// String lists the vectors in s.
func (s vecSet) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for v := 0; v < 256; v++ {
		if s.has(uint8(v)) {
			if b.Len() > 1 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%#x", v)
		}
	}
	b.WriteByte(']')
	return b.String()
}
