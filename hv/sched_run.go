package hv

import (
	"slices"
	"time"

	"grove/kernel"
	"grove/x86"
)

// Running a vCPU on a CPU, and its timers.

// wakeableLocked: an interrupt is pending or the sleep is over. Caller
// holds s.mu.
//
// An interrupt wakes only a vCPU that can take it (RFLAGS.IF was set at its
// last exit): HLT with interrupts off waits for ever, as on hardware.
func (v *VCPU) wakeableLocked() bool {
	return v.interruptWaitingLocked() && v.guestIF || v.slept || v.wakeAt != 0 && kernel.Nanotime() >= v.wakeAt
}

// interruptWaitingLocked: an interrupt waits for v, in its local APIC if
// it has one (platform_apic.go), else in its pending set (irq.go).
func (v *VCPU) interruptWaitingLocked() bool {
	if v.lapic != nil {
		return v.apicWaitingLocked()
	}
	return v.irq.waiting()
}

// raiseLocked makes vec pending on v and gets it delivered soon: a blocked
// v wakes, a running one is kicked so that it takes it at its next entry.
// Caller holds s.mu.
func (s *Scheduler) raiseLocked(v *VCPU, vec uint8) {
	v.irq.raise(vec)
	switch v.state {
	case vcpuBlocked:
		s.enqueueLocked(v)
	case vcpuRunning:
		s.kickLocked(v)
	}
}

// boostLocked runs v, a control-domain vCPU a virtual IRQ (virq.go) just
// woke, next on its CPU, preempting an ordinary vCPU running there (its
// own timers do not: they would preempt guests many times a second for
// the Go runtime's housekeeping): the control domain
// answers the host (a request, a domain event) in well under a slice, and
// otherwise waits behind every guest queued there (Xen's credit scheduler
// boosts woken vCPUs for the same reason). Gang members are left to their
// turn. Caller holds s.mu.
func (s *Scheduler) boostLocked(v *VCPU) {
	if !v.dom.Privileged || v.state != vcpuRunnable || v.isGang() {
		return
	}
	c := s.cpus[v.cpu]
	if i := slices.Index(c.runq, v); i > 0 {
		copy(c.runq[1:i+1], c.runq[:i])
		c.runq[0] = v
	}
	if cur := c.cur; cur != nil && !cur.dom.Privileged && !cur.isGang() {
		s.kickLocked(cur)
	}
}

// sleepLocked blocks v (once its exit is finished) until deadline at
// (kernel.Nanotime). Caller holds s.mu.
func (s *Scheduler) sleepLocked(v *VCPU, at int64) {
	v.wakeAt, v.slept = at, false
	s.rearmLocked(v)
}

// setGuestTimer arms (at > 0, Nanotime units) or stops (0) the guest's
// one-shot timer.
func (s *Scheduler) setGuestTimer(v *VCPU, at int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v.timerAt = at
	s.rearmLocked(v)
}

// rearmLocked points v's one host timer at its earliest deadline (sleep end
// or guest timer), or stops it. One reusable timer per vCPU keeps the exit
// path free of timer allocations. Caller holds s.mu.
func (s *Scheduler) rearmLocked(v *VCPU) {
	next := v.wakeAt
	if v.timerAt != 0 && (next == 0 || v.timerAt < next) {
		next = v.timerAt
	}
	if next == 0 {
		if v.hostTimer != nil {
			v.hostTimer.Stop()
		}
		return
	}
	d := max(time.Duration(next-kernel.Nanotime()), 0)
	if v.hostTimer == nil {
		v.hostTimer = time.AfterFunc(d, func() { s.timerFired(v) })
		return
	}
	v.hostTimer.Reset(d)
}

// timerFired consumes every deadline that has passed -- whatever state the
// vCPU is in, or a paused sleeper's timer would re-arm at zero forever --
// raising the guest's timer interrupt or noting the sleep as over, wakes a
// blocked vCPU, and re-arms for what is left. A callback that races with a
// re-arm finds nothing due and just re-arms.
func (s *Scheduler) timerFired(v *VCPU) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := kernel.Nanotime()
	switch {
	case v.lapic != nil:
		s.apicTimerFiredLocked(v, now)
	case v.timerAt != 0 && now >= v.timerAt:
		v.timerAt = 0
		s.raiseLocked(v, timerVector)
	}
	if v.wakeAt != 0 && now >= v.wakeAt {
		v.wakeAt, v.slept = 0, true // kept for finish if v is still running
	}
	if v.state == vcpuBlocked && v.wakeableLocked() {
		s.enqueueLocked(v)
	}
	if v.state != vcpuDead {
		s.rearmLocked(v)
	}
}

// runSlice runs v on c until deadline (its slot's end) or until it blocks,
// yields or dies. Each exit the fast path (fastexit.go) leaves goes
// through v.exit: read from the VMCB, decided by handleExit (exits.go),
// written back, and its outcome applied here or in finish.
func (s *Scheduler) runSlice(c *pcpu, v *VCPU, deadline int64) {
	x := &v.exit
	for {
		s.prepare(c, v)
		entered := kernel.Nanotime()
		code := v.runGuest(c, deadline)
		now := kernel.Nanotime()
		v.drainConsole()
		s.mu.Lock()
		fast := v.fast.TakeExits()
		v.exits += 1 + fast
		v.byKind[kindOf(code)]++
		v.fastExits += fast
		v.guestIF = v.vmcb.RFLAGS()&x86.RFLAGSIF != 0
		v.accountLocked(entered, now)
		v.curStart = 0
		s.ranNS += now - entered
		taken := !v.vmcb.VIRQPending()
		if taken && v.lapic == nil {
			v.irq.taken()
		}
		stop := v.dom.state != domRunning || v.dom.destroying || v.downReq ||
			s.yieldToGangLocked(c, v) || v.sg.relaxed() && v.coStoppedLocked(now)
		s.mu.Unlock()
		if v.lapic != nil {
			s.apicAfterExit(v, v.offered, taken)
		}
		v.readExit(code, now, x)
		out := handleExit(v, x)
		v.writeExit(x)
		if v.lapic != nil {
			s.apicAfterExit(v, 0, false) // the exit may have armed its timer
		}
		if out.act == actArmTimer {
			s.setGuestTimer(v, out.at)
			out = resume
		}
		if out.act == actResume && now < deadline && !stop && !v.dom.ended.Load() {
			continue
		}
		s.finish(c, v, out)
		return
	}
}

// prepare sets up TLB flushing, the TSC offset and the pending virtual
// interrupt for v's next entry on c.
func (s *Scheduler) prepare(c *pcpu, v *VCPU) {
	if !v.fastReady {
		v.setupFast()
	}
	s.mu.Lock()
	asid := v.dom.asid % uint32(len(c.asidOwner))
	flush := c.asidOwner[asid] != v || v.lastCPU != c.id || v.flushTLB
	v.flushTLB = false
	c.asidOwner[asid] = v
	v.lastCPU = c.id
	// For Grove's own guests an interrupt is offered (V_IRQ) only to a
	// guest that can take it now: QEMU's TCG leaks a virtual interrupt the
	// guest never takes into the host after #VMEXIT (docs/qemu-tcg.md);
	// one raised while the guest has interrupts off waits for its next exit
	// with them on. PC-platform guests get an interrupt window instead: a
	// vector they cannot take yet is offered with the VINTR intercept, so
	// they exit rather than take it (platform_apic.go).
	var vec uint8
	guestIF := v.vmcb.RFLAGS()&x86.RFLAGSIF != 0
	switch {
	case v.lapic != nil:
		vec = v.apicPrepare(kernel.Nanotime(), guestIF)
		v.offered = vec
		v.setWindowIntercepts(vec != 0)
	case guestIF:
		vec = v.irq.next()
	}
	// The fast path keeps the guest only while this offer stays right;
	// a kick from now on stops it (kickLocked, under mu as this is).
	v.fast.Entry(vec != 0, vec == 0 && v.interruptWaitingLocked())
	s.noteStartLocked(c, v, kernel.ReadTSC())
	v.curStart = kernel.Nanotime()
	s.mu.Unlock()
	v.vmcb.FlushTLB(flush)
	v.vmcb.SetTSCOffset(v.tscOffset - kernel.TSCOffset(c.id))
	loadPKRS(c, v)
	v.vmcb.SetVIRQ(vec != 0, vec)
}

// finish applies an exit outcome that ends the vCPU's turn on c.
func (s *Scheduler) finish(c *pcpu, v *VCPU, out outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.offCPU.Broadcast()
	c.cur = nil
	d := v.dom
	if out.act == actBlock && out.at != 0 {
		s.sleepLocked(v, out.at)
	}
	switch {
	case out.act == actCrash:
		d.endLocked(domCrashed, out.why)
		return
	case out.act == actShutdown:
		d.endLocked(domShutdown, out.why)
		return
	case v.downReq:
		v.downReq, v.state = false, vcpuDown
		return
	case d.state != domRunning || d.destroying:
		v.state = vcpuPaused // Destroy waits for this: it must not run again
		return
	case out.act == actBlock && v.wakeableLocked():
		// its wake-up came while it was still running: requeue below
	case out.act == actBlock:
		v.state = vcpuBlocked // the host timer (rearmLocked) or an interrupt wakes it
		return
	}
	s.enqueueLocked(v)
}
