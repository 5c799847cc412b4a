// Package abi is Grove's hypercall ABI, shared by the hypervisor and its
// guests. Calls follow Xen's x86_64 convention: VMMCALL with the number in
// RAX, arguments in RDI, RSI, RDX, R10, R8, the result in RAX, a negative
// Linux errno on failure. Numbers follow Xen where a Xen call exists.
//
//	number  call           arguments                  result
//	15      set_timer_op   deadline (TSC ticks, 0=off) 0
//	18      console_io     cmd, count, buffer GVA      bytes written, -EFAULT, -EINVAL
//	29      sched_op       cmd, arg                    0 (yield, block, sleep), no return (shutdown)
//	35      sysctl         pointer to Ctl              0 or -errno; -EPERM unless dom0
//	36      domctl         pointer to Ctl              0 or -errno; -EPERM unless dom0
//	24      vcpu_op        cmd, vcpu, arg             see vcpu.go
//	48      event_op       EventPoll, buffer GVA       1 (event copied), 0 (none), -errno
//	48      event_op       EventBindVIRQ, buffer GVA   0 or -errno (virq.go)
//	other   -              -                           -ENOSYS
//
// Every struct that crosses the boundary has a type here with its byte
// layout, Encode and Decode, a layout test and a fuzz target: Ctl and the
// per-command unions (domctl.go, sysctl.go, group.go), DomainInfo, Event
// (event.go), VIRQBind (virq.go). -EIO means the hypervisor failed in a way it did not expect
// (a bug, reported on its console), never a problem with the arguments.
package abi

// Hypercall numbers.
const (
	SetTimerOp = 15
	ConsoleIO  = 18
	SchedOp    = 29
	Sysctl     = 35
	Domctl     = 36
)

// console_io commands (Xen CONSOLEIO_*).
const (
	ConsoleWrite = 0
	ConsoleMax   = 4096 // longest write accepted
)

// sched_op commands (Xen SCHEDOP_*, plus Grove's sleep).
const (
	SchedYield    = 0
	SchedBlock    = 1  // until an event (timer) arrives
	SchedShutdown = 2  // arg: a Shutdown reason
	SchedSleep    = 64 // Grove: block for arg nanoseconds
)

// Shutdown reasons (Xen SHUTDOWN_*).
const (
	ShutdownPoweroff = 0
	ShutdownReboot   = 1
	ShutdownCrash    = 3
)

// CPUID leaves the hypervisor answers (hypervisor range, like Xen's).
const (
	CPUIDSignature = 0x40000000 // EAX max leaf; EBX,ECX,EDX = "GroveGroveHV"
	CPUIDTiming    = 0x40000010 // EAX = TSC kHz (CPUIDTopology in vcpu.go)
	Signature      = "GroveGroveHV"
)

// Debug console port (Bochs/QEMU convention): bytes written appear on the
// hypervisor console tagged with the domain.
const DebugPort = 0xe9

// TimerVector is the vector the hypervisor raises for set_timer_op.
const TimerVector = 0x40
