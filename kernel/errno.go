package kernel

import "grove/errno"

// sysErr is a system call's return for e: its negation in RAX, as Linux
// returns it.
// Kernel context: arithmetic on a constant, no allocation.
func sysErr(e errno.Errno) uint64 { return uint64(e.Ret()) }
