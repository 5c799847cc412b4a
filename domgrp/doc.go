// Package domgrp owns domain groups: which group each domain is in, each
// group's members in join order, each group's name, own pause count and
// recorded pause order, and each domain's gang-scheduling opt-in. It knows domains only through the small
// Domain interface (id, pause, unpause, wait until descheduled), so it runs
// under go test -race on any machine; it must never touch hardware or take a
// lock a vCPU could hold.
//
// # Invariants
//
// Every registered domain is in exactly one group, at every instant any
// reader can observe; group 0, the null group, holds the ungrouped ones and
// always exists. Members are kept in join (FIFO) order. A domain holds at
// most as many pauses from its group as the group's count, and exactly that
// many unless it is dom0 or was the caller skipped by a group pause. When a
// group's count is 0 its members hold none of its pauses, so no domain is
// left paused by a group that is not paused, and a domain is unpaused by
// domgrp only for a pause domgrp itself put on it.
//
// # Locking
//
// The membership is an immutable Snapshot published through an
// rcu.Pointer. Readers (the scheduler, getinfo, list) enter a read-side
// section on their own reader slot, Load the snapshot and walk it without
// locks; because a snapshot is complete before it is published and never
// modified after, a reader can never see a domain in two groups or in none.
// Writers take Table.mu, build the next snapshot copy-on-write (copying the
// group index, the changed groups' member slices and, only if a domain entry
// changes, the domain map), and publish it with one atomic store.
// RemoveDomain then waits for a grace period, outside mu, so the caller may
// free the domain.
//
// Group pause and unpause hold mu for their whole walk, so that no join or
// leave can slip between pausing the members and recording the group's new
// count (which would leave a member paused twice or unpaused by surprise),
// and walk the snapshot inside a read-side section on the caller's slot.
// Lock order: Table.mu, then a read-side section. Never call RemoveDomain
// (which waits for a grace period) inside a read-side section. Across
// packages, Table.mu comes before the hypervisor's locks (hv/doc.go).
//
// # Pausing
//
// Each Domain keeps its own controller pause count (limit 255). domgrp keeps
// a writer-side count of the pauses it put on each domain for its group and
// undoes exactly those: on leave or move, on unpause. A group pause walks
// the members in a pause order (those the caller's order names, then the
// rest in join order); the unpause walks it backwards, and the pause that
// took the count from 0 records it for an unpause given none. A failed
// group pause or join undoes what it did, newest first, and returns
// EOVERFLOW. See docs/groups.md for the
// table of operations, callers and errors.
//
// Errors are errno.Errno values, returned unwrapped so the hypercall layer
// can hand them to the guest unchanged.
package domgrp
