package hv

import (
	"runtime"
	"sync"
	"time"

	"grove/hv/svm"
	"grove/kernel"
)

// Scheduler runs vCPUs on this physical CPU: one loop, in a goroutine locked
// to its thread, picks runnable vCPUs round robin and runs each for at most a
// time slice (the kernel's timer forces an exit at the deadline). Blocked
// vCPUs use no time; with nothing runnable the loop parks and the kernel
// idles the CPU with HLT. (One loop per CPU once SMP arrives; nothing here
// assumes there is only one.)
type Scheduler struct {
	slice time.Duration

	mu        sync.Mutex // lock order: Scheduler.mu, then Domain.mu
	runq      []*VCPU
	offCPU    *sync.Cond // signalled when a vCPU stops running
	asidOwner map[uint32]*VCPU
	kick      chan struct{}
}

func newScheduler(slice time.Duration) *Scheduler {
	s := &Scheduler{slice: slice, asidOwner: map[uint32]*VCPU{}, kick: make(chan struct{}, 1)}
	s.offCPU = sync.NewCond(&s.mu)
	return s
}

// enqueueLocked makes v runnable. Caller holds s.mu.
func (s *Scheduler) enqueueLocked(v *VCPU) {
	if v.state == vcpuRunnable || v.state == vcpuDead {
		return
	}
	v.state = vcpuRunnable
	v.wakeAt, v.slept = 0, false // running again ends any sleep
	s.runq = append(s.runq, v)
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// wakeableLocked: an interrupt is pending or the sleep is over. Caller
// holds s.mu.
func (v *VCPU) wakeableLocked() bool {
	return v.irqPendingLocked() || v.slept || v.wakeAt != 0 && kernel.Nanotime() >= v.wakeAt
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
	if v.timerAt != 0 && now >= v.timerAt {
		v.timerAt = 0
		v.irqRaised++
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

// loop is the per-CPU scheduler loop.
func (s *Scheduler) loop() {
	runtime.LockOSThread()
	kernel.PinThread(0) // where Start enabled SVM
	for {
		s.mu.Lock()
		var v *VCPU
		if len(s.runq) > 0 {
			v, s.runq = s.runq[0], s.runq[1:]
			v.state = vcpuRunning
		}
		s.mu.Unlock()
		if v == nil {
			<-s.kick
			continue
		}
		s.runSlice(v)
	}
}

// runSlice runs v until its slice ends or it blocks, yields or dies. Each
// exit goes through v.exit: read from the VMCB, decided by handleExit
// (exits.go), written back, and its outcome applied here or in finish.
func (s *Scheduler) runSlice(v *VCPU) {
	deadline := kernel.Nanotime() + int64(s.slice)
	x := &v.exit
	for {
		s.prepare(v)
		code := svm.Run(v.vmcb, &v.regs, deadline)
		now := kernel.Nanotime()
		s.mu.Lock()
		v.exits++
		if !v.vmcb.VIRQPending() {
			v.irqDelivered = v.irqInjected // the guest took what was injected
		}
		s.mu.Unlock()
		v.readExit(code, now, x)
		out := handleExit(v, x)
		v.writeExit(x)
		if out.act == actArmTimer {
			s.setGuestTimer(v, out.at)
			out = resume
		}
		if out.act == actResume && now < deadline && !v.dom.pausePending() {
			continue
		}
		s.finish(v, out)
		return
	}
}

// prepare sets up TLB flushing and the pending virtual interrupt.
func (s *Scheduler) prepare(v *VCPU) {
	s.mu.Lock()
	owner := s.asidOwner[v.dom.asid]
	s.asidOwner[v.dom.asid] = v
	v.irqInjected = v.irqRaised
	pending := v.irqPendingLocked()
	s.mu.Unlock()
	v.vmcb.FlushTLB(owner != v) // another vCPU used this ASID since
	v.vmcb.SetVIRQ(pending, timerVector)
}

// finish applies an exit outcome that ends the vCPU's turn.
func (s *Scheduler) finish(v *VCPU, out outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.offCPU.Broadcast()
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
	case d.state != domRunning:
		v.state = vcpuPaused
		return
	case out.act == actBlock && v.wakeableLocked():
		// its wake-up came while it was still running: requeue below
	case out.act == actBlock:
		v.state = vcpuBlocked // the host timer (rearmLocked) or an interrupt wakes it
		return
	}
	s.enqueueLocked(v)
}
