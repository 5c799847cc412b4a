// Package domgrptest provides a fake domgrp.Domain for tests and benchmarks
// of domgrp and of the hypervisor code built on it.
package domgrptest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"grove/domgrp"
	"grove/errno"
)

// ControllerLimit is the controller pause count limit of a real domain.
const ControllerLimit = 255

// Domain is a fake domain: a controller pause count with a limit, a
// configurable cost per call, and a record of misuse.
type Domain struct {
	id    domgrp.DomID
	limit int
	cost  time.Duration
	log   *Log

	mu       sync.Mutex
	count    int
	badWaits int // WaitDescheduled on a domain that is not paused
}

// New returns an unpaused fake with the real limit and no cost.
func New(id domgrp.DomID) *Domain {
	return &Domain{id: id, limit: ControllerLimit}
}

// WithLimit sets the controller count limit (tests use small ones to reach
// EOVERFLOW quickly) and returns d.
func (d *Domain) WithLimit(n int) *Domain { d.limit = n; return d }

// WithCost makes every Pause, Unpause and WaitDescheduled busy-wait for c,
// standing in for the IPIs and bookkeeping of a real domain, and returns d.
func (d *Domain) WithCost(c time.Duration) *Domain { d.cost = c; return d }

// WithLog makes d record its successful pauses and unpauses in l (shared
// by several fakes, it shows the order of a group pause) and returns d.
func (d *Domain) WithLog(l *Log) *Domain { d.log = l; return d }

// Log records "pause N" and "unpause N" in call order.
type Log struct {
	mu  sync.Mutex
	ops []string
}

// Ops returns the record so far and starts a new one.
func (l *Log) Ops() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ops := slices.Clone(l.ops)
	l.ops = nil
	return ops
}

func (l *Log) add(op string, id domgrp.DomID) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.ops = append(l.ops, fmt.Sprintf("%s %d", op, id))
	l.mu.Unlock()
}

// ID implements domgrp.Domain.
func (d *Domain) ID() domgrp.DomID { return d.id }

// Pause implements domgrp.Domain.
func (d *Domain) Pause() error {
	d.spin()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.count >= d.limit {
		return errno.EOVERFLOW
	}
	d.count++
	d.log.add("pause", d.id)
	return nil
}

// Unpause implements domgrp.Domain.
func (d *Domain) Unpause() error {
	d.spin()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.count == 0 {
		return errno.EINVAL
	}
	d.count--
	d.log.add("unpause", d.id)
	return nil
}

// WaitDescheduled implements domgrp.Domain. A fake never runs, but waiting
// for a domain that is not paused would hang on real hardware, so it is
// counted as misuse.
func (d *Domain) WaitDescheduled() {
	d.spin()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.count == 0 {
		d.badWaits++
	}
}

// Count returns the controller pause count.
func (d *Domain) Count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count
}

// BadWaits returns how many times WaitDescheduled was called while unpaused.
func (d *Domain) BadWaits() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.badWaits
}

// spin busy-waits for the configured cost; sleeping would measure the
// timer, not the caller.
func (d *Domain) spin() {
	if d.cost <= 0 {
		return
	}
	for end := time.Now().Add(d.cost); time.Now().Before(end); {
	}
}
