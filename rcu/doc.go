// Package rcu is Grove's read-copy-update: readers run lock-free, writers
// publish new immutable versions and wait for a grace period before they
// reclaim an old one.
//
// # Readers and slots
//
// Readers are tracked per reader slot (one per vCPU, scheduler loop or other
// caller), in the style of userspace RCU (liburcu), not per
// physical CPU: a goroutine can be moved between CPUs at any call, so "this
// CPU passed a quiescent state" proves nothing about a goroutine. A slot is
// used by one caller at a time; handing it to another goroutine needs the
// usual happens-before (a channel, a mutex, the vCPU scheduler).
//
// Each slot holds, on its own cache line, a nesting count (touched only by its
// owner) and the grace-period number current when its outermost section
// began (0 when idle). Entering an outermost section is one atomic load of
// the global period and one store to the slot; leaving it is one store of
// 0. Nested Lock and Unlock only count. The read side never allocates,
// blocks or spins, and inlines into its caller.
//
// # Flavours
//
// The two flavours differ only in how the entry store is ordered before the
// section's loads (x86 lets a load pass an earlier store to another
// address: the store waits in the store buffer):
//
//   - fenced (urcu's memory-barrier flavour): the entry store is Go's
//     atomic store, XCHG on amd64, a full barrier, so the slot is visible
//     before any protected load in the section. The barrier stalls the
//     section's loads until the store buffer drains: in BenchmarkReadSide
//     a section around one dependent load costs about 1.9x the load.
//   - expedited (urcu's membarrier flavour, Linux's sys_membarrier RCU): the
//     entry store is a plain MOV, and Synchronize calls membarrier(2)
//     (MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every CPU running a
//     thread of the process execute a full barrier before it returns. A
//     section around one dependent load then costs 1.2-1.5x the load; a
//     grace period costs one system call more (on Linux about 1 µs; in
//     Grove's own kernel an IPI round trip to every other CPU,
//     kernel/membarrier.go).
//
// New picks the expedited flavour on linux/amd64 when the kernel registers
// the process for private expedited membarriers (on the first New), and the
// fenced flavour otherwise: on other architectures (whose plain stores are
// weaker than x86-TSO), when the kernel refuses (before Linux 4.14, or a
// seccomp filter), and always under the race detector (build tag race),
// which does not know what membarrier orders and would report the plain
// slot stores as races.
//
// # Ordering
//
// Why the expedited flavour is enough, on x86-TSO (AMD APM vol. 2, 7.2
// "Multiprocessor Memory Access Ordering": loads are not reordered with
// loads, stores not with stores, and a load is not reordered with a later
// store; only a store followed by a load of another address may be seen
// in the other order). Take a reader that enters with store S (slot =
// period), loads the protected pointer with L and leaves with store E
// (slot = 0), and a writer that publishes the new pointer, then in
// Synchronize increments the period, calls membarrier, and scans the slots.
// membarrier returns only after every other CPU has executed a full
// barrier (in the interrupt its IPI caused, or in the context switch that
// took the reader off its CPU) at some point B of its program; the writer
// publishes before the call and scans after it.
//
//   - If B falls before S, L follows B, which follows the publish: L gets the
//     new pointer, and the reader holds nothing the writer will reclaim.
//   - If B falls after S, S is visible before membarrier returns, so the
//     scan sees the slot busy with an old period and waits for E.
//   - E is a plain store after the section's loads and stores: TSO makes it
//     visible only after them, so once the scan sees 0 (or a newer period)
//     the old section is over. No barrier is needed on this side in either
//     flavour, so exit is a plain store in both.
//   - A reader that read the incremented period entered after the increment,
//     which follows the publish; TSO keeps its later load L after that read,
//     so it sees the new pointer and is rightly not waited for.
//
// The same argument needs the Go compiler to keep S before L and E after
// the section's loads, in instruction order. gc does not promise that for
// plain stores, but it holds by construction of its SSA back end (Go
// 1.26), which this package relies on: every load and store is threaded
// through one memory chain, loads are scheduled before the next store of
// the chain (ssa/schedule.go) and are never moved into a block with a
// different memory state (ssa/tighten.go); the protected pointer is read
// with an atomic load, which is never reordered with other memory
// operations; dead-store elimination (ssa/deadstore.go) removes S only
// when no load lies between S and E in one block, that is, when the
// section reads nothing (and S, E sit in different blocks anyway, behind
// the nesting test); and loads forwarded past S are only loads of memory
// the function itself zeroed, never shared data. TestReadSideCodeOrder
// disassembles the test binary and checks the order, so a compiler that
// changes this fails the tests rather than the readers. In Go terms the
// plain store races with the writer's atomic load of the slot; the memory
// model lets a racing read of a machine word observe some write to it,
// which is all the scan needs.
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
