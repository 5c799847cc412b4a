package hv

import (
	"grove/hv/svm"
	"grove/x86"
)

// NMIs and the interrupt window of a PC-platform vCPU.
//
// Once a processor takes an NMI it holds further NMIs until the handler's
// IRET has run (Intel SDM vol. 3, 6.7.1; AMD APM vol. 2, 8.2.9). An NMI
// injected through EVENTINJ leaves no such state that the hypervisor can
// see (there is no vNMI under QEMU), so it is tracked here as KVM tracks it
// without vNMI: after injecting an NMI the vCPU intercepts IRET; at that
// exit the IRET's RIP is noted and the IRET runs (nothing to decode). An
// NMI held meanwhile must arrive right after the IRET -- kvm-unit-tests'
// eventinj sends one from its NMI handler, and the handler of the second
// takes the console lock the interrupted code may take next -- so the
// IRET is single-stepped (RFLAGS.TF, #DB intercepted): the #DB exit after
// it opens the window and the held NMI goes in. The guest's DR6, which the
// step may touch, is put back; a guest single-stepping itself keeps its
// #DBs, and its held NMI waits for the first exit away from the IRET.

// nmiState is where a vCPU is with respect to NMIs.
type nmiState uint8

const (
	nmiOpen    nmiState = iota // an NMI may be injected
	nmiBlocked                 // in an NMI handler: IRET intercepted
	nmiIRET                    // its IRET seen at nmiRIP; open once it has run
)

// nmiCtl is a vCPU's NMI bookkeeping; the loop running the vCPU owns it.
type nmiCtl struct {
	state   nmiState
	rip     uint64 // the IRET's, in nmiIRET
	held    bool   // an NMI waits (a processor latches one)
	step    bool   // single-stepping the IRET
	stepped bool   // the step's #DB came: restore dr6
	dr6     uint64 // the guest's DR6 before the step
}

// injectNMI injects a held NMI if the guest may take one, or arranges for
// the window to open right after the handler's IRET. Runs before VMRUN.
func (v *VCPU) injectNMI() {
	n := &v.nmi
	if v.lapic.TakeNMI() {
		n.held = true
	}
	if n.stepped {
		v.vmcb.SetDR6(n.dr6)
		n.stepped = false
	}
	if n.state == nmiIRET && v.vmcb.RIP() != n.rip {
		n.state = nmiOpen
	}
	if !n.held {
		return
	}
	rflags := v.vmcb.RFLAGS()
	switch {
	case n.state == nmiOpen && !v.vmcb.EventInj().Valid():
		v.vmcb.SetEventInj(svm.NMI())
		n.state, n.held = nmiBlocked, false
	case n.state == nmiIRET && !n.step && rflags&x86.RFLAGSTF == 0:
		n.step, n.dr6 = true, v.vmcb.DR6()
		v.vmcb.SetRFLAGS(rflags | x86.RFLAGSTF) // IRET loads RFLAGS: the guest's comes back
	}
}

// exitIRET is the IRET that ends the guest's NMI handler.
func exitIRET(v *VCPU, x *exitState) outcome {
	if v.nmi.state == nmiBlocked {
		v.nmi.state, v.nmi.rip = nmiIRET, x.rip
	}
	return resume
}

// exitDB is the #DB of the IRET's single step: the IRET has run, NMIs
// are open. A #DB of the guest's own goes to the guest.
func exitDB(v *VCPU, x *exitState) outcome {
	if !v.nmi.step {
		x.inject = svm.Exception(x86.VecDB, false, 0)
		return resume
	}
	v.nmi.step, v.nmi.stepped, v.nmi.state = false, true, nmiOpen
	return resume
}

// setWindowIntercepts intercepts VINTR while a vector waits for the
// guest to be able to take it (apicPrepare), IRET while it is in an NMI
// handler, and #DB while its IRET is single-stepped.
func (v *VCPU) setWindowIntercepts(window bool) {
	misc1 := uint32(interceptMisc1)
	if window {
		misc1 |= svm.InterceptVINTR
	}
	if v.nmi.state == nmiBlocked {
		misc1 |= svm.InterceptIRET
	}
	v.vmcb.SetIntercepts(misc1, interceptMisc2)
	var exc uint32
	if v.nmi.step {
		exc = 1 << x86.VecDB
	}
	v.vmcb.SetExceptionIntercepts(exc)
}
