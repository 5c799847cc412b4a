package svm

import (
	"sync/atomic"

	"grove/x86"
)

// The exit fast path: exits that need nothing but a table lookup or a
// register update are answered inside the VMRUN long call (fast_amd64.s),
// and the guest re-entered at once, without the trip back through the
// system-call path to Go. Package hv fills a Fast per vCPU from the same
// policy its Go handlers apply; this file and the assembly only carry it
// out. An exit the fast path does not take returns from Run as before.
//
// Taken here, when the Fast allows:
//   - CPUID for a (leaf, subleaf) in the table: EAX-EDX from the table;
//   - VMMCALL with a number outside the Go table: RAX = the Fast's null
//     result;
//   - OUT (not string, not REP) to the debug port, except a newline: the
//     byte is appended to Console, which hv drains after each Run (a
//     newline returns, so a finished line is printed at once);
//   - a one-byte OUT to the UART's THR, except a newline, when the UART's
//     state word (UART) has UARTTHR: appended to Console likewise;
//   - a one-byte IN from the UART's LSR when the word has UARTLSR: AL =
//     the word's bits 7-0 (the rest of RAX kept, as IN does);
//   - HLT while the interrupt offered at entry is still pending and the
//     guest has interrupts on, when AnswerHLT allows (the guest takes the
//     offer once it resumes; under QEMU only when it next leaves its
//     chained translation blocks, docs/qemu-tcg.md).
//
// Everything else returns, and so does every exit after Stop, after the
// offered interrupt was taken, once the guest's RFLAGS.IF no longer matches
// the offer prepared at entry (the offer must be rethought in Go; with
// Window, an offer made while interrupts were off stands as long as they
// stay off), when
// EXITINTINFO holds an event to deliver again, and while the guest
// single-steps (RFLAGS.TF: the instruction's #DB is hv's to inject). The slice deadline is the
// long call's timer: its interrupt ends the run with an INTR exit, which
// returns. Without NRIPS (docs/qemu-tcg.md) RIP advances by the known
// lengths: CPUID 2, VMMCALL 3, HLT 1; OUT from EXITINFO2, the next RIP.

// Fast-path limits.
const (
	MaxCPUID   = 160 // table entries
	ConsoleMax = 256 // debug-port bytes held between two returns
	// CPUID leaves the index covers (Fast.slot): 0-31, 0x40000000-31,
	// 0x80000000-47. Others always return.
	cpuidBasicN = 32
	cpuidHyperN = 32
	cpuidExtN   = 48
	cpuidHyper  = 0x40000000
	cpuidExt    = 0x80000000
	slotHyper   = cpuidBasicN
	slotExt     = cpuidBasicN + cpuidHyperN
	slotN       = slotExt + cpuidExtN
	consoleNL   = '\n'
	// UART state word bits (pc.UARTFastLSR and pc.UARTFastTHR; hv checks
	// they are the same).
	UARTLSR    = 1 << 8
	UARTTHR    = 1 << 9
	uartLSROff = 5
	rflagsIF   = x86.RFLAGSIF
	rflagsTF   = x86.RFLAGSTF
	eventVBit  = 31 // EventV
)

// CPUIDEntry is one table row: the answer for (Leaf, Sub), or for Leaf
// whatever ECX holds when AnySub is set.
type CPUIDEntry struct {
	Leaf, Sub          uint32
	AnySub             uint32 // 1: ECX is no input for this leaf
	EAX, EBX, ECX, EDX uint32
}

// Fast is one vCPU's fast-path state. hv owns it; the vCPU's scheduler
// loop writes it before Run and reads it after, the assembly in between,
// and other CPUs only call Stop.
type Fast struct {
	on      uint32 // 0: every exit returns
	offered uint32 // an interrupt was offered (V_IRQ) at entry
	held    uint32 // an interrupt waits that was not offered at entry
	stop    uint32 // Stop was called: return at the next exit
	hlt     uint32 // HLT with the offered interrupt pending may be answered
	window  uint32 // an offer stands while the guest's interrupts are off

	goCalls uint64 // bit n: hypercall n has a Go handler
	nullRet uint64 // RAX after any other hypercall
	conPort uint64 // the debug port
	uartTHR uint64 // the UART's THR and LSR ports
	uartLSR uint64
	uart    *uint32 // the UART's state word, read atomically (plain loads on amd64); nil: no UART

	exits  uint64 // exits taken here since TakeExits
	conLen uint32
	ncpuid uint32
	con    [ConsoleMax]byte

	slot  [slotN]uint8 // leaf -> 1 + index of its first entry, 0: none
	cpuid [MaxCPUID]CPUIDEntry
}

// Policy sets what the fast path may answer: whether it runs at all, the
// hypercall numbers below 64 that Go handles (bit n for number n; every
// other number is answered with nullRet), and the debug port.
func (f *Fast) Policy(on bool, goCalls, nullRet uint64, debugPort uint16) {
	f.on = b32(on)
	f.goCalls, f.nullRet, f.conPort = goCalls, nullRet, uint64(debugPort)
}

// UART lets the fast path answer THR writes and LSR reads of the 16550 at
// base, as its state word says it may at the time of each exit (bits
// UARTLSR and UARTTHR, LSR's value in bits 7-0). A nil word turns it off.
// The word belongs to the device model and must outlive the vCPU.
func (f *Fast) UART(base uint16, word *uint32) {
	f.uart, f.uartTHR, f.uartLSR = word, uint64(base), uint64(base)+uartLSROff
}

// Window says how hv offers an interrupt the guest cannot take yet: as an
// interrupt window (V_IRQ with the VINTR intercept, the PC platform's
// way), which stays right while the guest keeps interrupts off, so exits
// with interrupts off may still be answered here; or not at all (Grove's
// own guests, whose offer is withdrawn when interrupts go off).
func (f *Fast) Window(on bool) { f.window = b32(on) }

// AnswerHLT says whether a HLT with the offered interrupt still pending
// may be answered here (the guest re-enters with the offer, V_IRQ), or
// must return (the hypervisor injects the interrupt itself).
func (f *Fast) AnswerHLT(on bool) { f.hlt = b32(on) }

// SetCPUID replaces the CPUID table. Entries of one leaf must be adjacent;
// leaves outside the indexed ranges and entries past MaxCPUID are dropped
// (those CPUIDs return). It reports how many entries it kept.
func (f *Fast) SetCPUID(es []CPUIDEntry) int {
	f.slot = [slotN]uint8{}
	f.ncpuid = 0
	for _, e := range es {
		i, ok := cpuidSlot(e.Leaf)
		if !ok || f.ncpuid == MaxCPUID {
			continue
		}
		if f.slot[i] == 0 {
			f.slot[i] = uint8(f.ncpuid + 1)
		} else if f.cpuid[f.ncpuid-1].Leaf != e.Leaf {
			continue // not adjacent to its leaf's first entry: unreachable
		}
		f.cpuid[f.ncpuid] = e
		f.ncpuid++
	}
	return int(f.ncpuid)
}

func cpuidSlot(leaf uint32) (int, bool) {
	switch {
	case leaf < cpuidBasicN:
		return int(leaf), true
	case leaf-cpuidHyper < cpuidHyperN:
		return slotHyper + int(leaf-cpuidHyper), true
	case leaf-cpuidExt < cpuidExtN:
		return slotExt + int(leaf-cpuidExt), true
	}
	return 0, false
}

// Entry prepares the next Run: whether an interrupt is offered through
// V_IRQ, and whether one waits that is not offered. It clears Stop, so a
// caller changing what Entry was told must hold the lock Stop's callers
// hold.
func (f *Fast) Entry(offered, held bool) {
	f.offered, f.held = b32(offered), b32(held)
	atomic.StoreUint32(&f.stop, 0)
}

// Stop makes the vCPU's loop return at its next exit (any CPU may call it;
// the caller then interrupts the CPU running the vCPU, which ends a run
// that does not exit by itself).
func (f *Fast) Stop() { atomic.StoreUint32(&f.stop, 1) }

// TakeExits returns the number of exits the fast path took since the
// last call, and resets it. Only the vCPU's loop calls it, after Run.
func (f *Fast) TakeExits() uint64 {
	n := f.exits
	f.exits = 0
	return n
}

// Console returns the debug-port bytes taken since the last ClearConsole,
// in order; they stay valid until the next Run.
func (f *Fast) Console() []byte { return f.con[:f.conLen] }

// ClearConsole empties the debug-port buffer (after Console's bytes are
// consumed).
func (f *Fast) ClearConsole() { f.conLen = 0 }

// Handle runs the fast path on the exit recorded in vmcb and regs, as the
// loop does after each #VMEXIT: it reports whether the exit was taken
// (the guest state is then updated). Host tests call it on made-up VMCBs.
func (f *Fast) Handle(vmcb VMCB, regs *Regs) bool {
	return fastExit(vmcb.PA, regs, f)
}

// fastExit is Handle's body and the loop's step (fast_amd64.s).
// Kernel context in the loop; any context from Handle.
func fastExit(vmcb uintptr, regs *Regs, f *Fast) bool

func b32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
