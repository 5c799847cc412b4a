package hv

import (
	"fmt"
	"time"

	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// The hypercall table (ABI in package abi). Handlers get the vCPU and the
// five argument registers and return RAX plus what happens to the vCPU.

type hcallFn func(v *VCPU, a [5]uint64) (int64, outcome, string)

// hypercalls is indexed by number: an array, not a map, because every
// VMMCALL exit looks it up (hashing is costly under emulation).
var hypercalls = [maxHypercall]hcallFn{
	abi.SetTimerOp: hcallSetTimer,
	abi.ConsoleIO:  hcallConsoleIO,
	abi.SchedOp:    hcallSchedOp,
}

const maxHypercall = 64

func hypercall(v *VCPU) (outcome, string) {
	nr := v.vmcb.RAX()
	a := [5]uint64{v.regs.RDI, v.regs.RSI, v.regs.RDX, v.regs.R10, v.regs.R8}
	var fn hcallFn
	if nr < maxHypercall {
		fn = hypercalls[nr]
	}
	if fn == nil {
		v.vmcb.SetRAX(uint64(errno.ENOSYS.Ret()))
		return resume, ""
	}
	ret, out, why := fn(v, a)
	v.vmcb.SetRAX(uint64(ret))
	return out, why
}

func hcallConsoleIO(v *VCPU, a [5]uint64) (int64, outcome, string) {
	if a[0] != abi.ConsoleWrite {
		return errno.ENOSYS.Ret(), resume, ""
	}
	if a[1] > abi.ConsoleMax {
		return errno.EINVAL.Ret(), resume, ""
	}
	b, err := v.copyIn(a[2], int(a[1]))
	if err != nil {
		return errno.EFAULT.Ret(), resume, ""
	}
	v.dom.consoleBytes(b)
	return int64(len(b)), resume, ""
}

func hcallSchedOp(v *VCPU, a [5]uint64) (int64, outcome, string) {
	switch a[0] {
	case abi.SchedYield:
		return 0, yield, ""
	case abi.SchedBlock:
		return 0, blockIt, ""
	case abi.SchedSleep:
		v.dom.hv.sched.setSleep(v, int64(min(a[1], uint64(time.Hour))))
		return 0, blockIt, ""
	case abi.SchedShutdown:
		switch a[1] {
		case abi.ShutdownPoweroff:
			return 0, shutdown, "poweroff"
		case abi.ShutdownReboot:
			return 0, shutdown, "reboot"
		case abi.ShutdownCrash:
			return 0, crashIt, fmt.Sprintf("guest requested crash at rip=%#x", v.vmcb.RIP())
		}
		return errno.EINVAL.Ret(), resume, ""
	}
	return errno.ENOSYS.Ret(), resume, ""
}

// hcallSetTimer arms the vCPU's one-shot timer at a TSC deadline (0 stops
// it); when it passes the guest gets abi.TimerVector.
func hcallSetTimer(v *VCPU, a [5]uint64) (int64, outcome, string) {
	var at int64
	if a[0] != 0 {
		at = max(kernel.TSCToNanotime(a[0]), 1) // 0 means off
	}
	v.dom.hv.sched.setGuestTimer(v, at)
	return 0, resume, ""
}
