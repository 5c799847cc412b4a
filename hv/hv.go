// Package hv is Grove's hypervisor: domains of PVH guests run with AMD SVM
// and nested paging (package svm), vCPUs scheduled by a per-CPU loop
// (sched.go), exits handled by a table (exits.go), and Grove's own hypercall
// table (hypercall.go, ABI in package abi). It knows nothing of how the
// image booted; it gets physical pages and guest-entry long calls from
// package kernel.
package hv

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
	"grove/hv/svm"
	"grove/kernel"
	"grove/rcu"
)

const (
	timerVector   = abi.TimerVector
	maxPauseCount = 255
	// DefaultSlice is the scheduler's time slice unless configured.
	DefaultSlice = 10 * time.Millisecond
)

// Hypervisor owns the domains and the scheduler.
type Hypervisor struct {
	sched  *Scheduler
	rcu    *rcu.State // readers: scheduler loops and hypercalls look domains up
	groups *domgrp.Table
	events eventQueue

	mu      sync.Mutex // guards domains and nextID; lock order: before Scheduler.mu
	domains map[DomID]*Domain
	nextID  DomID
	created atomic.Int64 // names domains made by createdomain
}

// Start enables SVM and starts the scheduler loop. It returns svm.ErrNoSVM
// (whose text says what to do) when the CPU cannot run guests.
func Start(slice time.Duration) (*Hypervisor, error) {
	// SVM is per CPU: enable it where the (one) loop runs.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := kernel.PinThread(0); err != nil {
		return nil, err
	}
	if err := svm.Enable(); err != nil {
		return nil, err
	}
	if slice <= 0 {
		slice = DefaultSlice
	}
	h := &Hypervisor{sched: newScheduler(slice), domains: map[DomID]*Domain{}, rcu: rcu.New(4)}
	h.groups = domgrp.New(h.rcu, 0)
	go h.sched.loop()
	return h, nil
}

// CreateDomain builds a domain from cfg. Like Xen's, a new domain starts
// paused once: Unpause starts it. The privileged domain becomes dom0.
func (h *Hypervisor) CreateDomain(cfg Config) (*Domain, error) {
	if cfg.MemoryMB < 2 || cfg.MemoryMB > 16384 {
		return nil, fmt.Errorf("domain %q: memory %d MiB out of range 2..16384", cfg.Name, cfg.MemoryMB)
	}
	h.mu.Lock()
	id := h.nextID
	if cfg.Privileged {
		if _, taken := h.domains[0]; taken {
			h.mu.Unlock()
			return nil, fmt.Errorf("domain %q: there is already a control domain", cfg.Name)
		}
		id = 0
	} else {
		for id == 0 || h.domains[id] != nil {
			id++
		}
		h.nextID = id + 1
	}
	d := &Domain{ID: id, Name: cfg.Name, Privileged: cfg.Privileged, hv: h,
		state: domPaused, pauseCount: 1} // the id is taken; lookups skip it until ready
	h.domains[id] = d
	h.mu.Unlock()
	if err := d.build(cfg); err != nil {
		h.mu.Lock()
		delete(h.domains, id)
		h.mu.Unlock()
		return nil, fmt.Errorf("domain %q: %w", cfg.Name, err)
	}
	if err := h.groups.AddDomain(grpDomain{d}); err != nil { // into the null group
		return nil, err
	}
	d.ready.Store(true)
	return d, nil
}

func (d *Domain) build(cfg Config) error {
	n := svm.ASIDs
	if n < 2 {
		n = 2
	}
	d.asid = 1 + uint32(d.ID)%(n-1) // shared ASIDs are flushed on switch (sched.go)
	ram, err := newGuestRAM(uint64(cfg.MemoryMB) << 20)
	if err != nil {
		return err
	}
	d.ram = ram
	entry, si, err := loadPVH(ram, cfg.Name, cfg.Image, cfg.Cmdline)
	if err != nil {
		ram.free()
		return err
	}
	v, err := newVCPU(d, 0, entry, si)
	if err != nil {
		ram.free()
		return err
	}
	v.state = vcpuPaused
	d.vcpus = []*VCPU{v}
	return nil
}

// Pause adds a controller pause and returns once no vCPU of d runs.
func (d *Domain) Pause() error {
	if err := d.pauseCount1(); err != nil {
		return err
	}
	d.waitDescheduled()
	return nil
}

// pauseCount1 adds a controller pause without waiting (domgrp waits for a
// whole group at once). A crashed or shut-down domain keeps counting, so a
// group holding one can still be paused and unpaused; a dying one cannot.
func (d *Domain) pauseCount1() error {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case d.state == domDying:
		return errno.EINVAL
	case d.pauseCount == maxPauseCount:
		return errno.EOVERFLOW
	}
	d.pauseCount++
	if d.state != domRunning && d.state != domPaused {
		return nil
	}
	if d.pauseCount == 1 {
		d.hv.events.push(event{abi.EventPaused, d.ID, ""})
		d.logf("paused") // the console shows the order of group and ordered pauses
	}
	d.state = domPaused
	for _, v := range d.vcpus {
		if v.state == vcpuRunnable {
			s.removeLocked(v)
			v.state = vcpuPaused
		} else if v.state == vcpuBlocked {
			v.state = vcpuPaused
		}
	}
	return nil
}

// waitDescheduled returns once no vCPU of d is running on any CPU; a running
// one stops at its next exit (at the latest when its slice ends).
func (d *Domain) waitDescheduled() {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range d.vcpus {
		for v.state == vcpuRunning {
			s.offCPU.Wait()
		}
	}
}

// Unpause drops a controller pause; at zero the domain runs again.
func (d *Domain) Unpause() error {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.pauseCount == 0 || d.state == domDying {
		return errno.EINVAL
	}
	d.pauseCount--
	if d.pauseCount > 0 || d.state != domPaused {
		return nil
	}
	d.state = domRunning
	if d.started { // the first unpause just starts a new domain
		d.hv.events.push(event{abi.EventUnpaused, d.ID, ""})
		d.logf("unpaused")
	}
	d.started = true
	for _, v := range d.vcpus {
		if v.state == vcpuPaused {
			s.enqueueLocked(v)
		}
	}
	return nil
}

func (d *Domain) pausePending() bool {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	return d.state != domRunning
}

// removeLocked takes v off the run queue. Caller holds s.mu.
func (s *Scheduler) removeLocked(v *VCPU) {
	for i, q := range s.runq {
		if q == v {
			s.runq = append(s.runq[:i], s.runq[i+1:]...)
			return
		}
	}
}

// endLocked stops a crashed or shut-down domain. Caller holds sched.mu.
func (d *Domain) endLocked(st domState, why string) {
	d.state, d.crashReason = st, why
	for _, v := range d.vcpus {
		if v.state == vcpuRunnable {
			d.hv.sched.removeLocked(v)
		}
		v.state = vcpuDead
		if v.hostTimer != nil {
			v.hostTimer.Stop()
		}
	}
	d.mu.Lock()
	if d.console.Len() > 0 {
		d.flushLocked()
	}
	d.mu.Unlock()
	switch st {
	case domCrashed:
		d.logf("crashed: %s", why)
		d.hv.events.push(event{abi.EventCrashed, d.ID, why})
	case domDying:
		d.logf("destroyed")
	default:
		d.logf("shut down (%s)", why)
		d.hv.events.push(event{abi.EventShutdown, d.ID, why})
	}
}

// Info is a domain's summary (getdomaininfo).
type Info struct {
	ID         DomID
	Name       string
	State      string
	PauseCount int
	MemoryMB   int
	Exits      uint64
	// OverheadKB is host memory the domain costs beyond its RAM: nested
	// page tables and one VMCB per vCPU (kernel pages), and the Go-heap
	// Domain and VCPU structs.
	OverheadKB int
}

// Info reports d's state.
func (d *Domain) Info() Info {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	var exits uint64
	for _, v := range d.vcpus {
		exits += v.exits
	}
	pages := len(d.vcpus)
	if d.ram.npt != nil {
		pages += d.ram.npt.Pages()
	}
	heap := domainSize + len(d.vcpus)*vcpuSize
	return Info{d.ID, d.Name, d.state.String(), d.pauseCount, int(d.ram.size >> 20), exits,
		pages*4 + (heap+1023)/1024}
}

// Domain returns the domain with id, if any.
func (h *Hypervisor) Domain(id DomID) (*Domain, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.domains[id]
	if !ok || !d.ready.Load() {
		return nil, false
	}
	return d, true
}

// Domains lists the domains in id order.
func (h *Hypervisor) Domains() []*Domain {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Domain, 0, len(h.domains))
	for id := 0; id <= 0xffff && len(out) < len(h.domains); id++ {
		if d, ok := h.domains[DomID(id)]; ok && d.ready.Load() {
			out = append(out, d)
		}
	}
	return out
}

// Destroy ends d and removes it; its memory goes back to the kernel after
// an RCU grace period, when no reader can still hold the domain.
func (h *Hypervisor) Destroy(d *Domain) error {
	s := h.sched
	s.mu.Lock()
	for _, v := range d.vcpus {
		for v.state == vcpuRunning {
			s.offCPU.Wait()
		}
	}
	if d.state != domCrashed && d.state != domShutdown {
		d.endLocked(domDying, "destroyed")
	}
	d.state = domDying
	for asid, v := range s.asidOwner {
		if v.dom == d {
			delete(s.asidOwner, asid)
		}
	}
	s.mu.Unlock()
	h.groups.RemoveDomain(domgrp.DomID(d.ID)) // waits for a grace period
	h.mu.Lock()
	delete(h.domains, d.ID)
	h.mu.Unlock()
	h.rcu.Call(func() {
		for _, v := range d.vcpus {
			v.free()
		}
		d.ram.free()
	})
	return nil
}
