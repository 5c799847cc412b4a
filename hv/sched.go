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
	s.runq = append(s.runq, v)
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// wake ends v's block (timer or sleep) unless it is paused or dead.
func (s *Scheduler) wake(v *VCPU, irq bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if irq {
		v.irqRaised++
	}
	if v.state == vcpuBlocked && v.wakeableLocked() {
		v.wakeAt = 0
		s.enqueueLocked(v)
	}
}

// wakeableLocked: an interrupt is pending or the sleep is over. Caller
// holds s.mu.
func (v *VCPU) wakeableLocked() bool {
	return v.irqPendingLocked() || v.wakeAt != 0 && kernel.Nanotime() >= v.wakeAt
}

func (s *Scheduler) armTimer(v *VCPU, at int64) {
	d := time.Duration(at - kernel.Nanotime())
	deadline := v.timerTSC
	time.AfterFunc(max(d, 0), func() {
		if v.timerTSC == deadline {
			s.wake(v, true)
		}
	})
}

// loop is the per-CPU scheduler loop.
func (s *Scheduler) loop() {
	runtime.LockOSThread()
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

// runSlice runs v until its slice ends or it blocks, yields or dies.
func (s *Scheduler) runSlice(v *VCPU) {
	deadline := kernel.Nanotime() + int64(s.slice)
	for {
		s.prepare(v)
		code := svm.Run(v.vmcb, &v.regs, deadline)
		v.exits++
		s.mu.Lock()
		if !v.vmcb.VIRQPending() {
			v.irqDelivered = v.irqInjected // the guest took what was injected
		}
		s.mu.Unlock()
		out, why := handleExit(v, code)
		if out == resume && kernel.Nanotime() < deadline && !v.dom.pausePending() {
			continue
		}
		s.finish(v, out, why)
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
func (s *Scheduler) finish(v *VCPU, out outcome, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.offCPU.Broadcast()
	d := v.dom
	switch {
	case out == crashIt:
		d.endLocked(domCrashed, why)
		return
	case out == shutdown:
		d.endLocked(domShutdown, why)
		return
	case d.state != domRunning:
		v.state = vcpuPaused
		return
	case out == blockIt && v.wakeableLocked():
		v.wakeAt = 0 // its wake-up came while it was still running
	case out == blockIt:
		v.state = vcpuBlocked
		if v.wakeAt != 0 {
			at := v.wakeAt
			time.AfterFunc(time.Duration(at-kernel.Nanotime()), func() { s.wake(v, false) })
		}
		return
	}
	s.enqueueLocked(v)
}
