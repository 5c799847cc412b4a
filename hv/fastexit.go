package hv

import (
	"grove/errno"
	"grove/hv/abi"
	"grove/hv/pc"
	"grove/hv/svm"
)

// The exit fast path's policy. svm.Fast (hv/svm/fast.go) answers some
// exits inside the VMRUN long call, from tables made here out of the same
// functions the Go handlers use, so the guest sees the same either way:
// CPUID from v.cpuid, a hypercall number outside the table with -ENOSYS as
// hypercall does, debug-port bytes into the domain's console in order, and
// a PC guest's COM1 LSR reads and THR writes as its model would answer them. The
// scheduler (sched_run.go) tells it at each entry which interrupt it
// offered, stops it when a kick comes (kickLocked), and folds its exit
// count and console bytes in after each run.

// exitPath is how a domain's exits are handled: the fast path with Go for
// the rest (Grove's way), Go alone, or the benchmark's floor.
type exitPath uint8

const (
	pathFast  exitPath = iota
	pathGo             // every exit through Go (the fast path's reference)
	pathFloor          // svm.RunFloor: a measuring device (exitbench.go)
)

var exitPathNames = [...]string{"fast", "go", "floor"}

func (p exitPath) String() string { return exitPathNames[p] }

// The fast path reads the UART's state word with the model's bits.
const (
	_ = uint(pc.UARTFastLSR-svm.UARTLSR) + uint(svm.UARTLSR-pc.UARTFastLSR)
	_ = uint(pc.UARTFastTHR-svm.UARTTHR) + uint(svm.UARTTHR-pc.UARTFastTHR)
)

// goHypercalls has bit n set for each hypercall number n with a Go
// handler; the fast path answers the others as hypercall does.
var goHypercalls = func() uint64 {
	var _ [64 - maxHypercall]struct{} // the mask has 64 bits
	var m uint64
	for n, fn := range hypercalls {
		if fn != nil {
			m |= 1 << n
		}
	}
	return m
}()

// setupFast fills v's fast path for its domain's exit path. Runs on v's
// loop before v's first entry: the CPUID table needs the domain complete.
func (v *VCPU) setupFast() {
	on := v.dom.path == pathFast
	v.fast.Policy(on, goHypercalls, uint64(errno.ENOSYS.Ret()), abi.DebugPort)
	// A PC-platform guest halting with an interrupt pending gets it from
	// Go, through EVENTINJ (platform_apic.go). Answered here it would
	// re-enter with only the V_IRQ offer, which QEMU notices late: the
	// instructions after the HLT run first (kvm-unit-tests' ioapic
	// "sti; hlt; cli" loop never took its interrupt; docs/qemu-tcg.md).
	v.fast.AnswerHLT(v.lapic == nil)
	// A PC-platform guest is offered what it cannot take yet as a window
	// (apicPrepare), which the next entry would offer again unchanged while
	// its interrupts stay off: Linux writes its console with them off,
	// and a timer interrupt pending meanwhile would send every console
	// exit to Go.
	v.fast.Window(v.lapic != nil)
	// A PC-platform guest's COM1: Linux's console writes each byte as an
	// LSR read and a THR write, answered here while the UART's state
	// word says the model would do nothing else (pc.UART.FastState).
	if p := v.dom.pc; p != nil && p.uart != nil {
		v.fast.UART(pc.COM1Port, p.uart.FastState())
	} else {
		v.fast.UART(0, nil)
	}
	if on {
		v.fast.SetCPUID(v.fastCPUID())
	}
	v.fastReady = true
}

// runGuest enters v's guest on c by v's domain's exit path.
func (v *VCPU) runGuest(c *pcpu, deadline int64) uint64 {
	switch v.dom.path {
	case pathFloor:
		return svm.RunFloor(c.host, v.vmcb, &v.regs, deadline)
	case pathGo:
		return svm.Run(c.host, v.vmcb, &v.regs, nil, deadline, v.exitAtOnce())
	}
	return svm.Run(c.host, v.vmcb, &v.regs, &v.fast, deadline, v.exitAtOnce())
}

// drainConsole passes the debug-port bytes the fast path took to the
// domain's console, before anything else of this exit is handled.
func (v *VCPU) drainConsole() {
	if b := v.fast.Console(); len(b) > 0 {
		v.dom.consoleBytes(b)
		v.fast.ClearConsole()
	}
}

// CPUID leaves whose host values name the CPU that executes CPUID (its
// APIC ids: leaf 1 EBX, 0xb and 0x1f EDX, 0x8000001e), so they differ
// between CPUs and cannot be fixed in a table; the PC platform replaces
// those of leaves 1 and 0xb with the vCPU's.
func cpuidPerCPU(leaf uint32, pc bool) bool {
	switch leaf {
	case 1, 0xb:
		return !pc
	case 0x1f, 0x8000001e:
		return true
	}
	return false
}

// cpuidSubLeaves take ECX as an input (Intel SDM vol. 2A, CPUID; AMD APM
// vol. 3, appendix E). The table holds subleaves 0 to cpuidTableSubs-1 of
// each; other subleaves go to Go.
func cpuidSubLeaves(leaf uint32) bool {
	switch leaf {
	case 4, 7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1b, 0x1d, 0x1e, 0x1f, 0x20, 0x23, 0x24,
		0x8000001d, 0x80000020, 0x80000026:
		return true
	}
	return false
}

const cpuidTableSubs = 4

// fastCPUID is v's CPUID table: every leaf up to the maxima the guest is
// told (basic, Grove's, extended), as v.cpuid answers. A leaf not known to
// take a subleaf gets one entry for any ECX, unless its answers differ
// between a few subleaves after all; then it is treated as one that does.
func (v *VCPU) fastCPUID() []svm.CPUIDEntry {
	var es []svm.CPUIDEntry
	pc := v.dom.pc != nil
	ranges := [...]uint32{0, abi.CPUIDSignature, 0x80000000}
	for _, first := range ranges {
		last, _, _, _ := v.cpuid(first, 0)
		if last < first || last-first > 64 {
			last = first // no such range, or a nonsense maximum
		}
		for leaf := first; leaf <= last; leaf++ {
			if cpuidPerCPU(leaf, pc) {
				continue
			}
			es = v.cpuidEntries(es, leaf)
		}
	}
	return es
}

// cpuidEntries appends leaf's table entries to es.
func (v *VCPU) cpuidEntries(es []svm.CPUIDEntry, leaf uint32) []svm.CPUIDEntry {
	entry := func(sub uint32) svm.CPUIDEntry {
		a, b, c, d := v.cpuid(leaf, sub)
		return svm.CPUIDEntry{Leaf: leaf, Sub: sub, EAX: a, EBX: b, ECX: c, EDX: d}
	}
	e0 := entry(0)
	subs := cpuidSubLeaves(leaf)
	for _, sub := range [...]uint32{1, 2, 3, 0x7f, 0xffffffff} {
		if e := entry(sub); e.EAX != e0.EAX || e.EBX != e0.EBX || e.ECX != e0.ECX || e.EDX != e0.EDX {
			subs = true
		}
	}
	if !subs {
		e0.AnySub = 1
		return append(es, e0)
	}
	es = append(es, e0)
	for sub := uint32(1); sub < cpuidTableSubs; sub++ {
		es = append(es, entry(sub))
	}
	return es
}
