package hv

import (
	"grove/errno"
	"grove/hv/abi"
	"grove/hv/svm"
)

// Virtual IRQs the control domain binds (hv/abi/virq.go, after Xen's
// bind_virq) so that it is interrupted rather than polling: VIRQDomExc when
// a domain event is queued (queueEventLocked), VIRQSerial when the machine's
// COM2 interrupts (serialirq.go). A binding is a vector on one of the
// binder's vCPUs, raised through its pending set (irq.go) like its timer.

// virqBinding is where one VIRQ goes; v nil: nowhere. Guarded by the
// scheduler's mu.
type virqBinding struct {
	v   *VCPU
	vec uint8
}

// raiseVIRQLocked raises VIRQ n where it is bound, if anywhere. A raise
// still pending needs nothing more: the first one woke or kicked the vCPU,
// and a group pause of 200 members would otherwise interrupt it 200 times.
// Caller holds s.mu.
func (h *Hypervisor) raiseVIRQLocked(n int) {
	b := h.virqs[n]
	if b.v != nil && b.v.state != vcpuDead && !b.v.irq.isPending(b.vec) {
		h.sched.raiseLocked(b.v, b.vec)
		h.sched.boostLocked(b.v) // the host or a domain event is waiting on it
	}
}

// queueEventLocked queues ev for event_op and raises VIRQDomExc. Caller
// holds s.mu (as every place that makes an event does).
func (h *Hypervisor) queueEventLocked(ev event) {
	h.events.push(ev)
	h.raiseVIRQLocked(abi.VIRQDomExc)
}

// eventBindVIRQ is event_op(EventBindVIRQ, gva of an abi.VIRQBind); the
// caller's privilege was checked.
func eventBindVIRQ(v *VCPU, gva uint64) int64 {
	buf, err := v.mem.copyIn(gva, abi.VIRQBindSize)
	if err != nil {
		return errno.EFAULT.Ret()
	}
	b, _ := abi.DecodeVIRQBind(buf)
	d := v.dom
	switch {
	case b.Validate() != nil:
		return errno.EINVAL.Ret()
	case b.VCPU >= uint32(len(d.vcpus)):
		return errno.ENOENT.Ret()
	}
	h := d.hv
	if b.VIRQ == abi.VIRQSerial {
		if b.Vector != 0 {
			if err := h.startSerialIRQ(); err != nil {
				d.logf("COM2 interrupt: %v", err)
				return errno.ENODEV.Ret()
			}
		}
		d.passCOM2(b.Vector != 0)
	}
	s := h.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	h.virqs[b.VIRQ] = virqBinding{}
	if b.Vector != 0 {
		h.virqs[b.VIRQ] = virqBinding{v: d.vcpus[b.VCPU], vec: b.Vector}
	}
	if b.VIRQ == abi.VIRQDomExc && h.events.len() > 0 {
		h.raiseVIRQLocked(abi.VIRQDomExc) // events from before the binding
	}
	return 0
}

// passCOM2 lets d reach COM2's ports without exits, or intercepts them
// again (its bus device, hostPorts, then passes each access through). Only
// a domain with its own I/O permission map (the control domain) can.
func (d *Domain) passCOM2(pass bool) {
	if d.iopm != 0 {
		svm.PassPorts(d.iopm, com2Base, com2Ports, pass)
	}
}
