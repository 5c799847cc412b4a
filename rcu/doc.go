// Package rcu is Grove's read-copy-update: readers run lock-free, writers
// publish new immutable versions and wait for a grace period before they
// reclaim an old one.
//
// # Readers and slots
//
// Readers are tracked per reader slot (one per vCPU, scheduler loop or other
// caller), in the style of userspace RCU's memory-barrier flavour, not per
// physical CPU: a goroutine can be moved between CPUs at any call, so "this
// CPU passed a quiescent state" proves nothing about a goroutine. A slot is
// used by one caller at a time; handing it to another goroutine needs the
// usual happens-before (a channel, a mutex, the vCPU scheduler).
//
// Each slot holds, on its own cache line, a nesting count (touched only by its
// owner) and the grace-period number current when its outermost section
// began (0 when idle). Entering an outermost section is one atomic load of
// the global period and one atomic store to the slot; Go's atomic store is a
// full barrier on amd64 (XCHG), which orders the store before the section's
// loads of protected pointers, exactly urcu-mb's smp_mb(). Nested Lock and
// Unlock only count. The read side never allocates, blocks or spins.
//
// # Grace periods
//
// urcu keeps a one-bit phase and flips it twice per synchronize, because a
// reader that read the phase just before a flip and stored it just after the
// scan would look "current" after the next flip. Grove keeps a 64-bit period
// number instead: Synchronize increments it once and waits for every slot
// that is inside a section begun in an older period. A reader that entered
// after the increment carries the new number and is not waited for; a reader
// that loaded the old number but stored it after the scan loads protected
// data after the writer's publish, so it cannot hold an old pointer.
// Synchronize calls that overlap share work: a caller that finds a whole
// grace period began and ended after its own call started returns at once.
//
// # Callbacks
//
// Call queues a function; one background goroutine, started on demand and
// exiting when the queue is empty, takes the whole queue as a batch, waits
// one grace period and runs the batch in Call order. Barrier waits until every
// callback queued before it has run. Callbacks must not call Barrier
// (deadlock) but may call Call.
//
// # Stalls
//
// Publishing never waits for readers; only Synchronize (and so callbacks)
// does. A slot that stays in one section longer than the stall timeout
// (default 10 s), e.g. a caller that returned without Unlock, is reported
// through the Stall hook (default: log) with the time Synchronize has waited
// for it, again every further timeout, and listed by Stalled. Synchronize
// keeps waiting: returning early would let a writer free memory a reader may
// still use. Unlock without Lock panics, naming the slot.
//
// # Rules
//
// A read-side section begins and ends in the same function. Never call
// Synchronize or Barrier inside a read-side section (it waits for itself;
// the stall report names the slot).
package rcu
