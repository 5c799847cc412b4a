package hv

import "grove/hv/svm"

// Exits are decided in plain Go and applied by the scheduler: a handler
// gets one exit's fields (exitState) and the vCPU's registers, may change
// the guest state the exit carries, and returns an outcome. It never
// touches the VMCB or the scheduler; runSlice reads the VMCB into an
// exitState before the handler and writes it back after, and runSlice and
// finish apply the outcome (sched.go).

// action is what happens to the vCPU after an exit.
type action uint8

const (
	actResume   action = iota // run the vCPU again
	actYield                  // requeue behind the others
	actBlock                  // wait for an interrupt, or until outcome.at
	actArmTimer               // set the guest timer to outcome.at (0 = off), then resume
	actCrash                  // the domain crashed; outcome.why says why
	actShutdown               // the domain shut down; outcome.why says why
)

var actionNames = [...]string{"resume", "yield", "block", "arm-timer", "crash", "shutdown"}

func (a action) String() string { return actionNames[a] }

// outcome is an exit handler's decision.
type outcome struct {
	act action
	at  int64  // actBlock: wake-up deadline (kernel.Nanotime, 0 = none); actArmTimer: timer deadline
	why string // actCrash, actShutdown
}

var (
	resume = outcome{act: actResume}
	yield  = outcome{act: actYield}
	block  = outcome{act: actBlock}
)

func crash(why string) outcome    { return outcome{act: actCrash, why: why} }
func shutdown(why string) outcome { return outcome{act: actShutdown, why: why} }
func sleepUntil(at int64) outcome { return outcome{act: actBlock, at: at} }
func armTimer(at int64) outcome   { return outcome{act: actArmTimer, at: at} }
func (o outcome) String() string  { return o.act.String() + " " + o.why }

// exitState is one #VMEXIT as a handler sees it. The first group is the
// VMCB's exit information (APM vol. 2, table B-1), read-only; the second is
// guest state a handler may change, written back before the next VMRUN.
type exitState struct {
	code         uint64    // EXITCODE
	info1, info2 uint64    // EXITINFO1, EXITINFO2
	intInfo      svm.Event // EXITINTINFO: an event whose delivery the exit interrupted
	now          int64     // kernel.Nanotime at the exit, for deadlines
	csBase       uint64    // NPF and CR4 writes: CS base, for fetching the instruction
	mode         int       // NPF and CR4 writes: code size in bits (16, 32, 64)
	cr3          uint64    // CR4 writes only

	rip, rax uint64
	efer     uint64
	cr4      uint64    // read for CR4 writes only (platform_cr4.go); else 0 and not written back
	inject   svm.Event // EVENTINJ for the next VMRUN (0 = none)
}

// advance moves RIP past an intercepted instruction of n bytes (no NRIPS
// under TCG, docs/qemu-tcg.md: the length is known per exit kind).
func (x *exitState) advance(n uint64) { x.rip += n }

// readExit fills x from v's VMCB after a #VMEXIT with code.
func (v *VCPU) readExit(code uint64, now int64, x *exitState) {
	m := v.vmcb
	*x = exitState{code: code, info1: m.ExitInfo1(), info2: m.ExitInfo2(), intInfo: m.ExitIntInfo(),
		now: now, rip: m.RIP(), rax: m.RAX(), efer: m.EFER()}
	switch code {
	case svm.ExitNPF: // an MMIO access needs its instruction decoded
		x.csBase, x.mode = m.CS().Base, cpuMode(m)
	case svm.ExitCR4Write:
		x.csBase, x.mode, x.cr3, x.cr4 = m.CS().Base, cpuMode(m), m.CR3(), m.CR4()
	}
}

// writeExit stores what a handler changed back into v's VMCB. A handler
// that moved RIP completed the instruction, which ends an interrupt shadow
// it ran in (svm.VMCB.ClearInterruptShadow) and, for a guest that
// single-steps, raises its #DB trap (singlestep.go).
func (v *VCPU) writeExit(x *exitState) {
	m := v.vmcb
	if x.rip != m.RIP() {
		m.ClearInterruptShadow()
		v.stepTrap(x)
	}
	m.SetRIP(x.rip)
	m.SetRAX(x.rax)
	if x.efer != m.EFER() {
		m.SetEFER(x.efer)
	}
	if x.code == svm.ExitCR4Write {
		m.SetCR4(x.cr4)
	}
	if x.inject.Valid() {
		m.SetEventInj(x.inject)
	}
}
