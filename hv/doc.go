// Package hv is Grove's hypervisor: domains of PVH guests run with AMD SVM
// and nested paging (package svm), vCPUs scheduled by a per-CPU loop
// (sched.go), exits handled by a table (exits.go), and Grove's own hypercall
// table (hypercall.go, ABI in package abi). It knows nothing of how the
// image booted; it gets physical pages and guest-entry long calls from
// package kernel, and counts the pages it holds itself (pages.go).
//
// Where things live: the Hypervisor and its domain registry in
// hypervisor.go, creation in create.go (ids from ids.go), the pause state
// machine in pause.go, ending and destroying domains in destroy.go, the
// domain summary in info.go, the run queue's edits in runq.go.
//
// Domains are looked up by id in the registry under Hypervisor.mu, and a
// domain is visible to lookups only once it is fully built. RCU (package
// rcu) serves the group table's readers (package domgrp) and delays giving
// a destroyed domain's pages back until no reader can hold it.
package hv
