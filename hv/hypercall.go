package hv

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// Hypercalls: VMMCALL with the number in RAX and arguments in RDI, RSI,
// RDX, R10, R8 (package abi). A handler gets the vCPU, the exit and the
// arguments and returns RAX and the outcome; the table is hypercalls.go.

type hcallFn func(v *VCPU, x *exitState, a [5]uint64) (int64, outcome)

// guestMem is how hypercalls reach the caller's memory by guest-virtual
// address: the vCPU's own page walk (guestvirt.go) or a test's stand-in.
type guestMem interface {
	copyIn(gva uint64, n int) ([]byte, error)
	copyOut(gva uint64, b []byte) error
}

func hypercall(v *VCPU, x *exitState) outcome {
	nr := x.rax
	var fn hcallFn
	if nr < maxHypercall {
		fn = hypercalls[nr]
	}
	if fn == nil {
		x.rax = uint64(errno.ENOSYS.Ret())
		return resume
	}
	ret, out := fn(v, x, [5]uint64{v.regs.RDI, v.regs.RSI, v.regs.RDX, v.regs.R10, v.regs.R8})
	x.rax = uint64(ret)
	return out
}

// errRet is the hypercall result for err: 0 for nil, the negated errno
// when err carries one (errno.Errno or the kernel's syscall.Errno, the same
// Linux numbers). An error without one is a hypervisor bug, not the
// caller's mistake: it is reported on the console and the caller gets
// -EIO.
// what and n name the call for that report.
func (v *VCPU) errRet(err error, what string, n uint32) int64 {
	if err == nil {
		return 0
	}
	if e, ok := asErrno(err); ok {
		return e.Ret()
	}
	v.dom.logf("hypervisor bug: %s %d: %v (returned EIO)", what, n, err)
	return errno.EIO.Ret()
}

// asErrno finds the errno in err's chain.
func asErrno(err error) (errno.Errno, bool) {
	var e errno.Errno
	if errors.As(err, &e) {
		return e, true
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return errno.Errno(se), true
	}
	return 0, false
}

func hcallConsoleIO(v *VCPU, x *exitState, a [5]uint64) (int64, outcome) {
	if a[0] != abi.ConsoleWrite {
		return errno.ENOSYS.Ret(), resume
	}
	if a[1] > abi.ConsoleMax {
		return errno.EINVAL.Ret(), resume
	}
	b, err := v.mem.copyIn(a[2], int(a[1]))
	if err != nil {
		return errno.EFAULT.Ret(), resume
	}
	v.dom.consoleBytes(b)
	return int64(len(b)), resume
}

func hcallSchedOp(v *VCPU, x *exitState, a [5]uint64) (int64, outcome) {
	switch a[0] {
	case abi.SchedYield:
		return 0, yield
	case abi.SchedBlock:
		return 0, block
	case abi.SchedSleep:
		return 0, sleepUntil(x.now + int64(min(a[1], uint64(time.Hour))))
	case abi.SchedShutdown:
		switch a[1] {
		case abi.ShutdownPoweroff:
			return 0, shutdown("poweroff")
		case abi.ShutdownReboot:
			return 0, shutdown("reboot")
		case abi.ShutdownCrash:
			return 0, crash(fmt.Sprintf("guest requested crash at rip=%#x", x.rip))
		}
		return errno.EINVAL.Ret(), resume
	}
	return errno.ENOSYS.Ret(), resume
}

// hcallSetTimer arms the vCPU's one-shot timer at a TSC deadline (0 stops
// it); when it passes the guest gets abi.TimerVector.
func hcallSetTimer(v *VCPU, x *exitState, a [5]uint64) (int64, outcome) {
	var at int64
	if a[0] != 0 {
		at = max(kernel.TSCToNanotime(a[0]), 1) // 0 means off
	}
	return 0, armTimer(at)
}
