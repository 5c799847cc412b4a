package rcu

import (
	"fmt"
	"sync/atomic"
)

// Pointer is an RCU-protected pointer: readers Load it inside a read-side
// section, the single writer (under its own lock) Stores or Swaps it and
// reclaims the old value only after a grace period (Synchronize or Call).
// The pointed-to value must not be modified once published.
type Pointer[T any] struct {
	p atomic.Pointer[T]
}

// Load returns the current value. r must be inside a read-side section, and
// the value may be used only until that section ends; Load panics otherwise,
// which catches a forgotten Lock at its first use.
func (p *Pointer[T]) Load(r *Reader) *T {
	if r.nest == 0 {
		panic(notHeld(r.idx))
	}
	return p.p.Load()
}

// notHeld is Load's panic value (a conversion keeps Load inlinable).
type notHeld int32

func (idx notHeld) Error() string {
	return fmt.Sprintf("rcu: Pointer.Load outside a read-side section on reader slot %d", int32(idx))
}

// Protected returns the current value for the writer, which holds the lock
// that serializes Store and Swap and so needs no read-side section.
func (p *Pointer[T]) Protected() *T { return p.p.Load() }

// Store publishes v. Everything written to *v before Store is visible to a
// reader that Loads v.
func (p *Pointer[T]) Store(v *T) { p.p.Store(v) }

// Swap publishes v and returns the previous value, which readers may still
// hold until a grace period has passed.
func (p *Pointer[T]) Swap(v *T) *T { return p.p.Swap(v) }
