package hv

import (
	"fmt"
	"strings"

	"grove/kernel"
	"grove/x86"
)

// Domain state for people, the prompt's "state ID": each vCPU's scheduler
// state, where its guest is and whether it can take an interrupt, and for
// PC-platform domains the local APICs and the interrupt lines of COM1 and
// the PIT. It is what to read when a guest waits for an event that never
// comes. A running vCPU's VMCB fields are as of its last exit.

var vcpuStateNames = [...]string{"runnable", "running", "blocked", "paused", "dead", "down"}

func (st vcpuState) String() string {
	if int(st) < len(vcpuStateNames) {
		return vcpuStateNames[st]
	}
	return fmt.Sprintf("state%d", int(st))
}

// State describes d's vCPUs and interrupt sources, one line each.
func (d *Domain) State() string {
	var b strings.Builder
	now := kernel.Nanotime()
	s := d.hv.sched
	s.mu.Lock()
	for _, v := range d.vcpus {
		m := v.vmcb
		fmt.Fprintf(&b, "d%d v%d %s cpu=%d rip=%#x if=%v shadow=%v eventinj=%#x virq=%v offered=%#x exits=%d wake-at=%s timer-at=%s\n",
			d.ID, v.id, v.state, v.cpu, m.RIP(), m.RFLAGS()&x86.RFLAGSIF != 0, m.InterruptShadow(),
			uint64(m.EventInj()), m.VIRQPending(), v.offered, v.exits, inNS(v.wakeAt, now), inNS(v.timerAt, now))
		fmt.Fprintf(&b, "d%d v%d exits %s\n", d.ID, v.id, v.byKind.String(v.fastExits))
	}
	s.mu.Unlock()
	if p := d.pc; p != nil {
		for _, v := range d.vcpus {
			fmt.Fprintf(&b, "d%d v%d lapic %s\n", d.ID, v.id, v.lapic.State(now))
		}
		fmt.Fprintf(&b, "d%d ioapic %s\n", d.ID, p.ioapic.PinState(pinCOM1))
		fmt.Fprintf(&b, "d%d ioapic %s\n", d.ID, p.ioapic.PinState(pinPIT))
		fmt.Fprintf(&b, "d%d com1 %s\n", d.ID, p.uart.State())
	}
	return b.String()
}

// inNS shows a Nanotime deadline relative to now.
func inNS(at, now int64) string {
	if at == 0 {
		return "none"
	}
	return fmt.Sprintf("%+dus", (at-now)/1000)
}
