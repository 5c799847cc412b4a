package hv

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"grove/domgrp"
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
	rcu    *rcu.State // readers: group-table lookups (groups.go); defers freeing a destroyed domain
	groups *domgrp.Table
	events eventQueue
	virqs  [abi.NumVIRQs]virqBinding // where VIRQs go (virq.go); guarded by sched.mu
	serial serialIRQ                 // COM2's interrupt for VIRQSerial (serialirq.go)
	shm    shmRegion                 // the host channel's shared memory (ctlring.go)

	mu      sync.Mutex // guards domains and ids; lock order in doc.go
	domains map[DomID]*Domain
	ids     *idSpace     // unprivileged domains' ids; 0 is the control domain's
	created atomic.Int64 // names domains made by createdomain
	ctlMu   sync.Mutex   // serializes users of the control reader slot
}

// Start enables SVM and starts a scheduler loop on every CPU. It returns
// svm.ErrNoSVM (whose text says what to do) when the CPU cannot run guests.
func Start(slice time.Duration) (*Hypervisor, error) {
	if err := svm.Enable(); err != nil {
		return nil, err
	}
	n := kernel.OnlineCPUs()
	h := newHypervisor(slice, MaxDomID, n)
	if err := h.sched.start(); err != nil {
		return nil, err
	}
	// Each loop holds a P through its guests' runs (a VMRUN is a long
	// system call, and Go hands a P in a system call to others only when
	// sysmon retakes it, after up to 10 ms): one more P per loop keeps the
	// rest of the program (dom0's requests, timers) as responsive as
	// without guests.
	runtime.GOMAXPROCS(2 * n)
	return h, nil
}

// newHypervisor makes a hypervisor for ncpu CPUs whose domains get ids
// 1..maxID (the control domain 0), with its scheduler loops not yet started.
// Each loop has its RCU reader slot (its CPU index).
func newHypervisor(slice time.Duration, maxID DomID, ncpu int) *Hypervisor {
	if slice <= 0 {
		slice = DefaultSlice
	}
	ncpu = max(ncpu, 1)
	h := &Hypervisor{sched: newScheduler(slice, ncpu), domains: map[DomID]*Domain{},
		ids: newIDSpace(maxID), rcu: rcu.New(ncpu + 1)}
	h.groups = domgrp.New(h.rcu, 0)
	h.serial.host = com2Host
	return h
}

// withControlReader runs fn with the RCU reader slot kept for callers that
// are not scheduler loops (the console, self-tests): slot ncpu, one caller
// at a time.
func (h *Hypervisor) withControlReader(fn func(r *rcu.Reader) error) error {
	h.ctlMu.Lock()
	defer h.ctlMu.Unlock()
	return fn(h.rcu.Reader(len(h.sched.cpus)))
}

// Domain returns the domain with id, if any (under h.mu; see the package doc).
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
	for _, d := range h.domains {
		if d.ready.Load() {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *Domain) int { return int(a.ID) - int(b.ID) })
	return out
}
