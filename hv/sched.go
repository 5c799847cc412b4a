package hv

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"grove/domgrp"
	"grove/hv/svm"
	"grove/kernel"
)

// Scheduler runs vCPUs on every physical CPU: one loop per CPU, each in a
// goroutine locked to a thread pinned to its CPU (kernel.PinThread), with
// SVM switched on there (svm.EnableCPU). A loop takes vCPUs from its own run
// queue, or steals from the longest other queue when its own is empty, and
// runs each for at most a time slice (the kernel's timer forces an exit at
// the deadline). Blocked vCPUs use no time; with nothing runnable a loop
// parks and the kernel idles its CPU with HLT.
//
// One lock (mu) guards every queue and every vCPU's scheduling state: the
// decisions that gang scheduling will make need the whole picture, and
// there are at most a handful of CPUs. Cross-CPU rules:
//   - a vCPU runs on one CPU at a time (state vcpuRunning, cpu set);
//   - placing a runnable vCPU picks the least-loaded CPU its affinity
//     allows, the one it last ran on when loads tie (placeLocked);
//   - stopping a vCPU that runs elsewhere (pause, destroy, vcpu down, an
//     interrupt for it) kicks that CPU with an IPI (kernel.KickCPU): the
//     guest exits at once and the loop sees why;
//   - ASIDs: a vCPU gets a TLB flush when it enters a CPU where its ASID was
//     last used by another vCPU, or when it ran on another CPU since it last
//     ran here (its guest may have changed mappings and flushed only there);
//   - each loop owns RCU reader slot = its CPU index (hypercalls run there).
//
// Lock order: after Hypervisor.mu, before Domain.mu (the package doc has
// the whole order).
type Scheduler struct {
	slice atomic.Int64 // time slice, ns (a self-test lengthens it for a while)

	mu     sync.Mutex
	cpus   []*pcpu
	offCPU *sync.Cond // signalled when a vCPU stops running

	// Scheduling groups (gang.go): groups with a policy, the gangs in
	// round-robin order, and the current slot's plan.
	groups      map[domgrp.GroupID]*schedGroup
	gangs       []*schedGroup
	turn        int
	lastWasGang bool
	plan        slotPlan
	ranNS       int64 // guest run time given on all CPUs (throughput figure)

	// kickCPU interrupts a CPU (kernel.KickCPU; host tests record it).
	kickCPU func(cpu int)
}

// pcpu is one physical CPU's part of the scheduler. Guarded by mu except
// host and kick, which its loop owns.
type pcpu struct {
	id        int
	host      *svm.Host
	runq      []*VCPU
	cur       *VCPU   // running now, nil when idle
	asidOwner []*VCPU // by ASID: the last vCPU that ran with it here
	kick      chan struct{}
	pkrs      uint64 // IA32_PKRS as last loaded here (platform_pks.go)
}

func newScheduler(slice time.Duration, ncpu int) *Scheduler {
	s := &Scheduler{kickCPU: func(cpu int) { kernel.KickCPU(cpu) }}
	s.slice.Store(int64(slice))
	for i := 0; i < ncpu; i++ {
		s.cpus = append(s.cpus, &pcpu{id: i, kick: make(chan struct{}, 1)})
	}
	s.offCPU = sync.NewCond(&s.mu)
	s.plan = slotPlan{epoch: -1, assign: make([]*VCPU, ncpu)}
	return s
}

// start starts one loop per CPU and returns once each has SVM on, or the
// first CPU's error.
func (s *Scheduler) start() error {
	errs := make(chan error, len(s.cpus))
	for _, c := range s.cpus {
		go s.loop(c, errs)
	}
	var first error
	for range s.cpus {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// enqueueLocked makes v runnable on the CPU placeLocked picks. Caller holds
// s.mu.
func (s *Scheduler) enqueueLocked(v *VCPU) {
	if v.state == vcpuRunnable || v.state == vcpuDead || v.state == vcpuDown {
		return
	}
	if v.state != vcpuRunning {
		v.levelLocked() // it was idle, not behind its relaxed siblings
	}
	v.state = vcpuRunnable
	v.wakeAt, v.slept = 0, false // running again ends any sleep
	if v.isGang() {
		s.gangWokeLocked(v) // it waits in its group for its gang's turn
		return
	}
	c := s.placeLocked(v)
	v.cpu = c.id
	c.runq = append(c.runq, v)
	if c.cur == nil {
		c.wake()
	}
}

// wake wakes c's loop if it is parked; a wake-up already pending suffices.
func (c *pcpu) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// placeLocked picks the CPU for a runnable v: the least loaded (queued plus
// running) among those its affinity allows, its last CPU on a tie.
func (s *Scheduler) placeLocked(v *VCPU) *pcpu {
	var best *pcpu
	bestLoad := 0
	for _, c := range s.cpus {
		if !v.allowedOn(c.id) {
			continue
		}
		load := len(c.runq)
		if c.cur != nil {
			load++
		}
		if best == nil || load < bestLoad || load == bestLoad && c.id == v.lastCPU {
			best, bestLoad = c, load
		}
	}
	if best == nil { // an affinity naming no CPU that exists: ignore it
		best = s.cpus[0]
	}
	return best
}

// pickLocked takes the next independent vCPU for c: the first of its queue
// not co-stopped (relaxed.go), else one stolen from the longest queue of
// another CPU that c may run. Caller holds s.mu.
func (s *Scheduler) pickLocked(c *pcpu, now int64) *VCPU {
	if v := s.takeLocked(c, c.id, now); v != nil {
		return v
	}
	var from *pcpu
	for _, o := range s.cpus {
		if o != c && len(o.runq) > 0 && (from == nil || len(o.runq) > len(from.runq)) {
			from = o
		}
	}
	if from == nil {
		return nil
	}
	return s.takeLocked(from, c.id, now)
}

// takeLocked unlinks the first vCPU of q's queue that may run on cpu now.
func (s *Scheduler) takeLocked(q *pcpu, cpu int, now int64) *VCPU {
	for i, v := range q.runq {
		if v.allowedOn(cpu) && !v.coStoppedLocked(now) {
			q.runq = append(q.runq[:i], q.runq[i+1:]...)
			return v
		}
	}
	return nil
}

// removeLocked takes a runnable v off its CPU's queue. Caller holds s.mu.
func (s *Scheduler) removeLocked(v *VCPU) {
	for _, c := range s.cpus {
		for i, q := range c.runq {
			if q == v {
				c.runq = append(c.runq[:i], c.runq[i+1:]...)
				return
			}
		}
	}
}

// kickLocked makes a running v exit now (it runs on another CPU, or on
// this one between exits: the IPI then ends its next entry at once).
// Caller holds s.mu.
func (s *Scheduler) kickLocked(v *VCPU) {
	if v.state == vcpuRunning {
		v.fast.Stop() // the fast path returns at its next exit, even if the IPI came early
		s.kickCPU(v.cpu)
	}
}

// loop is CPU c's scheduler loop.
func (s *Scheduler) loop(c *pcpu, ready chan<- error) {
	runtime.LockOSThread()
	if err := kernel.PinThread(c.id); err != nil {
		ready <- err
		return
	}
	h, err := svm.EnableCPU()
	if err == nil {
		c.host = h
		c.asidOwner = make([]*VCPU, max(svm.ASIDs, 2))
	}
	ready <- err
	if err != nil {
		return
	}
	idle := time.NewTimer(time.Hour)
	for {
		s.mu.Lock()
		now := kernel.Nanotime()
		v, end := s.nextLocked(c, now)
		if v != nil {
			v.state, v.cpu, c.cur = vcpuRunning, c.id, v
		}
		pending := v == nil && (s.gangPendingLocked() || s.anyCoStoppedLocked())
		s.mu.Unlock()
		if v != nil {
			s.runSlice(c, v, end)
			continue
		}
		if !pending {
			<-c.kick
			continue
		}
		// Work waits for a slot boundary (a gang's turn, a co-stop's
		// end): look again then.
		idle.Reset(time.Duration(end - now))
		select {
		case <-c.kick:
		case <-idle.C:
		}
		idle.Stop()
	}
}

// anyCoStoppedLocked reports a runnable vCPU held back by a co-stop.
func (s *Scheduler) anyCoStoppedLocked() bool {
	for _, c := range s.cpus {
		for _, v := range c.runq {
			if v.costopAt != 0 {
				return true
			}
		}
	}
	return false
}
