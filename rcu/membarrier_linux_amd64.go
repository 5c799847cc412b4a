//go:build !race

package rcu

import (
	"sync"
	"syscall"
)

// plainStores: readers may publish their slot with plain stores, because on
// x86-TSO a membarrier(2) in Synchronize restores the one ordering a plain
// store lacks (doc.go, "Ordering").
const plainStores = true

// membarrier(2) (Linux include/uapi/linux/membarrier.h). The syscall
// package predates the call, so the number is spelled out.
const (
	sysMembarrier                 = 324
	mbCmdQuery                    = 0
	mbCmdPrivateExpedited         = 1 << 3
	mbCmdRegisterPrivateExpedited = 1 << 4
)

// expedited reports whether this process is registered for
// MEMBARRIER_CMD_PRIVATE_EXPEDITED; New then gives the expedited flavour.
// It registers on the first call, not at package init: in a process with
// several threads Linux registers after a grace period of its own (about
// 12 ms), which a program that never makes a State should not pay.
var expedited = sync.OnceValue(registerMembarrier)

// registerMembarrier asks the kernel whether it offers private expedited
// membarriers and registers the process for them. A kernel without the
// call (before Linux 4.14, or one that filters it) makes New fall back to
// the fenced flavour.
func registerMembarrier() bool {
	const want = mbCmdPrivateExpedited | mbCmdRegisterPrivateExpedited
	r, _, e := syscall.Syscall(sysMembarrier, mbCmdQuery, 0, 0)
	if e != 0 || r&want != want {
		return false
	}
	_, _, e = syscall.Syscall(sysMembarrier, mbCmdRegisterPrivateExpedited, 0, 0)
	return e == 0
}

// membarrier makes every thread of the process that is running execute a
// full memory barrier before it returns (the kernel IPIs their CPUs; a
// thread that is not running passed a barrier when it was switched out).
// Registration succeeded, so the call cannot fail; if it did, a writer
// could free what a reader still uses, so it panics.
func membarrier() {
	if _, _, e := syscall.Syscall(sysMembarrier, mbCmdPrivateExpedited, 0, 0); e != 0 {
		panic("rcu: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) after registration: " + e.Error())
	}
}
