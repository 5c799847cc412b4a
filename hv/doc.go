// Package hv is Grove's hypervisor: domains of PVH guests run with AMD SVM
// and nested paging (package svm), vCPUs scheduled by a per-CPU loop
// (sched.go), exits handled by a table (exits.go), and Grove's own hypercall
// table (hypercalls.go; the calling convention in hypercall.go, the ABI in
// package abi). It knows nothing of how the
// image booted; it gets physical pages and guest-entry long calls from
// package kernel, and counts the pages it holds itself (pages.go).
//
// Where things live: the Hypervisor and its domain registry in
// hypervisor.go, creation in create.go (ids from ids.go), the pause state
// machine in pause.go, ending and destroying domains in destroy.go, the
// domain summary in info.go, the run queues and the per-CPU loops in
// sched.go, a vCPU's slice, timers and the outcome it ends with in
// sched_run.go.
//
// Domains are looked up by id in the registry under Hypervisor.mu, and a
// domain is visible to lookups only once it is fully built. RCU (package
// rcu) serves the group table's readers (package domgrp) and delays giving
// a destroyed domain's pages back until no reader can hold it.
//
// # Lock order
//
// This is the one statement of the order across packages; the locks'
// declarations point here. A lock may be taken while holding only locks
// above it:
//
//  1. domgrp's Table.mu (domgrp/table.go): group operations call into the
//     domains (Pause, Unpause), so it comes before every hypervisor lock.
//  2. Hypervisor.mu (hypervisor.go): the registry and the id space.
//  3. Scheduler.mu (sched.go): run queues, vCPU and domain scheduling
//     state, pause counts.
//  4. Domain.mu (domain.go): the domain's console buffer and logOnce keys.
//  5. Leaves, which take nothing while held: the event queue's mu
//     (events.go; pushed under Scheduler.mu when a domain ends or pauses),
//     a device bus's mu (devbus.go, the unknown-port log), the platform's
//     timer mu (platform.go), each hv/pc device's own mutex (a local
//     APIC's is taken under Scheduler.mu to read its pending interrupt),
//     and a guest RAM's mapMu (mem.go; mappings added while its vCPUs
//     run). The one nesting among them: the host channel's shm.mu
//     (ctlring.go) takes the control domain's mapMu while it maps.
//
// The PC devices never call out while holding their mutex: an interrupt
// travels device -> IOAPIC -> APIC bus -> local APIC -> the bus's kick,
// which takes Scheduler.mu (platform_apic.go pcKick) with no device lock
// held, so a device may be entered from a vCPU exit, a host timer or the
// console alike.
// Waiting for an RCU grace period (rcu.State.Synchronize, and so
// domgrp's RemoveDomain) happens with none of these held; an RCU read-side
// section is not a lock and may be entered under Table.mu (domgrp/doc.go).
// The kernel's big kernel lock (kernel/bkl.go) is below all of them and
// apart: it is held only in kernel context, which takes no Go lock and is
// left before any thread-context code runs, so no Go lock is ever taken or
// held across it.
package hv
