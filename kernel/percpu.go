package kernel

import "sync/atomic"

// maxCPUs bounds the per-CPU array (and CPU masks, which are one word).
const maxCPUs = 8

// percpu is one CPU's kernel state. GS base points at it. The first fields are
// read by hand-encoded GS-relative instructions in trap_amd64.s, so their
// offsets are fixed (checked in init below).
type percpu struct {
	scratch uintptr // 0: user RSP during SYSCALL entry
	kstack  uintptr // 8: top of the kernel stack (also IST1)
	self    uintptr // 16: address of this percpu
	curFPU  uintptr // 24: FXSAVE area of the current task
	newFS   uintptr // 32: FS base to load on exit; 0 = unchanged
	kg      uintptr // 40: this CPU's kernel g (see kstack.go)
	savedG  uintptr // 48: the interrupted thread's TLS g word (trap restores it)

	id       int
	cur      int32 // index into tasks of the running task
	idle     int32 // this CPU's idle task
	inKernel int32 // nesting depth of trap(); >1 means a kernel fault
	hwFS     uintptr
	sliceEnd int64 // when the current task's time slice ends (ns)
	armed    int64 // deadline the LAPIC timer is armed for (ns), 0 = none

	apicID uint32
	stacks uintptr // base of the IST stacks (cpuInit)
	// The run queue of tasks waiting for this CPU (task.next links), and
	// the earliest deadline of the tasks blocked on it. BKL held.
	runHead, runTail int32
	runLen           int
	nextDeadline     int64
	ipiReq           atomic.Uint32 // another CPU's request (ipi.go)
	started          atomic.Bool   // the AP reached apMain
	kicked           atomic.Bool   // a vecResched IPI is on its way
	tscSkew          int64         // this CPU's TSC minus the boot CPU's at start
	// Kernel entries on this CPU, for the self-tests' per-CPU checks.
	traps, timerIRQs uint64
	tlbFlushes       uint64 // shoot-down requests answered (atomic)
	fences           uint64 // membarrier requests answered (atomic)

	gdt [7]uint64
	tss tss
}

var cpus [maxCPUs]percpu

// thisCPU returns the executing CPU's block.
// Kernel context only.
func thisCPU() *percpu { return ptrAt[percpu](thisCPUAddr()) }
