package hv

import (
	"fmt"

	"grove/hv/pc"
	"grove/hv/svm"
	"grove/x86"
)

// Exit handling: a table from exit code to handler, each a function from
// one exit (exitState, outcome.go) and the vCPU's registers to an outcome.
// The exit's own state reaches a handler through exitState, not the VMCB,
// so host tests drive handlers with made-up exits. The exceptions are
// named where they are: instruction emulation reads the guest's registers
// and page tables (fetchInsn, translate), and vcpu_op and APIC start-up
// set up another vCPU's VMCB and wake it under the scheduler's lock. Unknown
// exits crash the domain with the code named.

type exitFn func(v *VCPU, x *exitState) outcome

// exitHandlers is indexed by exit code (all handled codes but NPF are
// below 0x100; see exitHandler).
var exitHandlers = [0x100]exitFn{
	svm.ExitCPUID:    exitCPUID,
	svm.ExitIOIO:     exitIOIO,
	svm.ExitMSR:      exitMSR,
	svm.ExitHLT:      exitHLT,
	svm.ExitVMMCALL:  exitVMMCALL,
	svm.ExitShutdown: exitShutdown,
	// A host interrupt (the slice timer, a kick from another CPU) ends the
	// run; runSlice then checks the deadline and why it was kicked.
	svm.ExitINTR:   func(*VCPU, *exitState) outcome { return resume },
	svm.ExitNMI:    func(*VCPU, *exitState) outcome { return yield },
	svm.ExitVINTR:  func(*VCPU, *exitState) outcome { return resume },
	svm.ExitVMRUN:  injectUD,
	svm.ExitVMLOAD: injectUD,
	svm.ExitVMSAVE: injectUD,
	svm.ExitSTGI:   injectUD,
	svm.ExitCLGI:   injectUD,
	svm.ExitSKINIT: injectUD,
	// PC-platform guests only (platform_cr4.go, platform_nmi.go).
	svm.ExitCR4Write:            exitCR4Write,
	svm.ExitIRET:                exitIRET,
	svm.ExitExcBase + x86.VecDB: exitDB,
}

func exitHandler(code uint64) exitFn {
	switch {
	case code == svm.ExitNPF:
		return exitNPF
	case code < uint64(len(exitHandlers)):
		return exitHandlers[code]
	}
	return nil
}

// handleExit decides what to do after the vCPU's #VMEXIT. An event whose
// delivery the exit interrupted is queued again first. A bug in a handler
// (a panic) crashes that domain, never the hypervisor.
func handleExit(v *VCPU, x *exitState) (out outcome) {
	defer func() {
		if r := recover(); r != nil {
			out = crash(fmt.Sprintf("hypervisor error handling exit %#x at rip=%#x: %v", x.code, x.rip, r))
		}
	}()
	x.inject = redeliver(x.intInfo)
	if h := exitHandler(x.code); h != nil {
		return h(v, x)
	}
	if x.code == svm.ExitInvalid {
		return crash(fmt.Sprintf("invalid guest state (VMEXIT_INVALID) at rip=%#x", x.rip))
	}
	return crash(fmt.Sprintf("unhandled exit %#x at rip=%#x", x.code, x.rip))
}

// redeliver returns the event to inject again for an exit's EXITINTINFO:
// an interrupt or exception whose delivery an intercept (a nested page
// fault while pushing the frame, a host interrupt) cut short is not lost,
// the hypervisor injects it again on the next VMRUN (APM vol. 2, 15.7.2).
// Instruction intercepts never interrupt a delivery, so no handler that
// injects an event of its own meets a valid one here.
//
// QEMU (TCG) deviates twice (docs/qemu-tcg.md): EXITINTINFO echoes the last
// EVENTINJ with V clear after a successful injection, so only V counts; and
// an external interrupt whose delivery faulted reads as an exception, which
// VMRUN would refuse for a vector above 31 (exceptions are 0-31), so such
// an event goes back as the interrupt it was.
func redeliver(e svm.Event) svm.Event {
	if !e.Valid() {
		return 0
	}
	if e.Type() == svm.EventTypeException && e.Vector() >= 32 {
		e = e.WithType(svm.EventTypeINTR)
	}
	return e
}

// exitIOIO sends a port access to the domain's bus (devbus.go). EXITINFO2
// is the next RIP.
func exitIOIO(v *VCPU, x *exitState) outcome {
	io := svm.DecodeIOIO(x.info1)
	if io.Str {
		return crash(fmt.Sprintf("string I/O on port %#x at rip=%#x is not supported", io.Port, x.rip))
	}
	if io.In {
		val := uint64(v.dom.bus.in(io.Port, io.Size, x.rip))
		switch io.Size {
		case 4: // a 32-bit result zero-extends into RAX, as for any 32-bit write
			x.rax = val
		default:
			mask := uint64(1)<<(8*io.Size) - 1
			x.rax = x.rax&^mask | val&mask
		}
	} else {
		v.dom.bus.out(io.Port, io.Size, uint32(x.rax), x.rip)
	}
	x.rip = x.info2
	return resume
}

// MTRRs (APM vol. 2, 7.7): variable, fixed and the default type, all in
// this range.
const (
	msrMTRRFirst = 0x200
	msrMTRRLast  = 0x2ff
)

// exitMSR: EFER keeps SVME hidden from the guest; PAT and the MTRRs accept
// writes and read as zero; anything else raises #GP in the guest, as on
// hardware.
func exitMSR(v *VCPU, x *exitState) outcome {
	write, msr := x.info1 == svm.MSRWrite, uint32(v.regs.RCX)
	val := v.regs.RDX<<32 | x.rax&0xffffffff
	var ok bool
	switch {
	case v.lapic != nil && pc.HasMSR(msr):
		if val, ok = apicMSR(v, x, msr, write, val); !ok {
			return injectGP(v, x)
		}
	case v.dom.pc != nil && pcZeroMSR(msr):
		val = 0 // present on the processor Grove models, nothing to configure
	case v.dom.pc != nil && msr == msrPKRS:
		if val, ok = pcPKRS(v, write, val); !ok {
			return injectGP(v, x)
		}
	case v.dom.pc != nil && (msr == x86.MSRTSC || msr == msrTSCAux):
		if val, ok = pcTSCMSR(v, msr, write, val); !ok {
			return injectGP(v, x)
		}
	case msr == x86.MSREFER && write:
		x.efer = val // writeExit keeps SVME set underneath
	case msr == x86.MSREFER:
		val = x.efer &^ x86.EFERSVME
	case msr == x86.MSRPAT || (msr >= msrMTRRFirst && msr <= msrMTRRLast):
		val = 0
	default:
		v.dom.bus.unknown.Add(1)
		if v.dom.pc != nil {
			v.dom.logOnce(fmt.Sprintf("msr %#x", msr), "MSR %#x not modelled (rip=%#x): #GP, as for an absent MSR", msr, x.rip)
		}
		return injectGP(v, x)
	}
	if !write {
		x.rax = val & 0xffffffff
		v.regs.RDX = val >> 32
	}
	x.advance(2)
	return resume
}

func exitHLT(v *VCPU, x *exitState) outcome {
	x.advance(1)
	return block // finish keeps it runnable if an interrupt is pending
}

func exitVMMCALL(v *VCPU, x *exitState) outcome {
	x.advance(3) // before the call: shutdown and yield keep a consistent RIP
	return hypercall(v, x)
}

// exitNPF: EXITINFO1 is the error code, EXITINFO2 the guest-physical address.
// An access to a device's MMIO range (the vCPU's local APIC page, or a
// range on the domain's bus) is emulated by decoding the instruction
// (platform_apic.go); any other fault crashes the domain, naming what it
// hit and the event it was delivering, if any.
func exitNPF(v *VCPU, x *exitState) outcome {
	if v.lapic != nil && x.info2>>12 == pc.Base>>12 {
		return exitMMIO(v, x, v.lapic, pc.Base) // each vCPU sees its own APIC there
	}
	if r, ok := v.dom.bus.lookup(SpaceMMIO, x.info2); ok {
		return exitMMIO(v, x, r.dev, r.base)
	}
	if v.dom.pc != nil && x.info2 >= v.dom.ram.size {
		u := unmodelledMMIO{v.dom, x.info2, x.rip}
		// Not present: map it all ones (platform_mmio.go) and run the
		// access again. A write to it then faults as present and is
		// dropped here.
		if x.info1&npfPresent == 0 && v.dom.mapUnmodelled(x.info2) {
			u.note()
			return resume
		}
		return exitMMIO(v, x, u, x.info2)
	}
	during := ""
	if x.intInfo.Valid() {
		during = fmt.Sprintf(" delivering vector %#x", x.intInfo.Vector())
	}
	return crash(fmt.Sprintf("nested page fault at gpa=%#x (error %#x) rip=%#x%s", x.info2, x.info1, x.rip, during))
}

// npfPresent is EXITINFO1's P bit on a nested page fault: the page was
// mapped and the access broke its protection (APM vol. 2, 15.25.6).
const npfPresent = 1 << 0

func exitShutdown(v *VCPU, x *exitState) outcome {
	return crash(fmt.Sprintf("triple fault at rip=%#x", x.rip))
}

func injectUD(v *VCPU, x *exitState) outcome {
	x.inject = svm.Exception(x86.VecUD, false, 0)
	return resume
}

func injectGP(v *VCPU, x *exitState) outcome {
	x.inject = svm.Exception(x86.VecGP, true, 0)
	return resume
}
