package hv

import (
	"syscall"
	"testing"
	"unsafe"

	"grove/hv/pc"
	"grove/hv/svm"
)

// VMCB offsets the tests poke (APM vol. 2, appendix B).
const (
	testOffMisc1  = 0x008 // misc1 is the upper half of this word (0x00c)
	testOffRFLAGS = 0x570
	testOffRIP    = 0x578
)

type testClock struct{}

func (testClock) Nanotime() int64 { return 0 }
func (testClock) TSC() uint64     { return 0 }
func (testClock) TSCHz() uint64   { return 1e9 }

// pcTestVCPU is a PC-platform vCPU with a VMCB in ordinary memory and a
// software-enabled local APIC.
func pcTestVCPU(t *testing.T) *VCPU {
	t.Helper()
	page, err := syscall.Mmap(-1, 0, pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(page) })
	bus, err := pc.NewBus(1, testClock{}, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := fakeVCPU(t, false)
	v.vmcb = svm.VMCB{PA: uintptr(unsafe.Pointer(&page[0]))}
	v.lapic = bus.LAPIC(0)
	v.lapic.Write(0xf0, 4, 0x1ff) // SVR: software-enabled
	v.dom.pc = &platform{}
	return v
}

func misc1(v *VCPU) uint32 { return uint32(v.vmcb.Get(testOffMisc1) >> 32) }

func exc(v *VCPU) uint32 { return uint32(v.vmcb.Get(testOffMisc1)) }

// TestNMIBlocking: an NMI sent while the guest runs its NMI handler waits
// until the handler's IRET has run; the IRET is single-stepped so that it
// goes in right after, and the guest's RFLAGS and DR6 come back as they
// were. IRET is intercepted only in the handler, #DB only during the step.
func TestNMIBlocking(t *testing.T) {
	v := pcTestVCPU(t)
	nmi := pc.Msg{Mode: pc.ModeNMI}
	prepare := func() {
		v.apicPrepare(0, false)
		v.setWindowIntercepts(false)
	}
	v.lapic.Deliver(nmi)
	prepare()
	if v.vmcb.EventInj() != svm.NMI() || v.nmi.state != nmiBlocked || misc1(v)&svm.InterceptIRET == 0 {
		t.Fatalf("first NMI: inject %#x state %d misc1 %#x", v.vmcb.EventInj(), v.nmi.state, misc1(v))
	}
	v.vmcb.SetEventInj(0) // VMRUN delivered it
	v.lapic.Deliver(nmi)  // the handler sends itself another
	prepare()
	if v.vmcb.EventInj().Valid() {
		t.Fatal("NMI injected inside the NMI handler")
	}
	x := exitState{code: svm.ExitIRET, rip: 0x5000}
	if out := handleExit(v, &x); out != resume || x.rip != 0x5000 || v.nmi.state != nmiIRET {
		t.Fatalf("IRET exit: %v rip %#x state %d", out, x.rip, v.nmi.state)
	}
	v.vmcb.Set(testOffRIP, 0x5000)
	v.vmcb.Set(testOffRFLAGS, 0x2)
	v.vmcb.SetDR6(0xffff0ff0)
	prepare()
	if v.vmcb.EventInj().Valid() || misc1(v)&svm.InterceptIRET != 0 || v.vmcb.RFLAGS() != 0x102 || exc(v) != 1<<1 {
		t.Fatalf("stepping the IRET: inject %#x misc1 %#x rflags %#x exceptions %#x",
			v.vmcb.EventInj(), misc1(v), v.vmcb.RFLAGS(), exc(v))
	}
	v.vmcb.Set(testOffRIP, 0x4000) // the IRET has run (and loaded RFLAGS)
	v.vmcb.Set(testOffRFLAGS, 0x2)
	v.vmcb.SetDR6(0xffff4ff0) // BS, from the step
	x = exitState{code: svm.ExitExcBase + 1, rip: 0x4000}
	if out := handleExit(v, &x); out != resume || x.inject.Valid() {
		t.Fatalf("step #DB: %v inject %#x", out, x.inject)
	}
	prepare()
	if v.vmcb.EventInj() != svm.NMI() || v.nmi.state != nmiBlocked || v.vmcb.DR6() != 0xffff0ff0 || exc(v) != 0 {
		t.Fatalf("after the IRET: inject %#x state %d dr6 %#x exceptions %#x", v.vmcb.EventInj(), v.nmi.state, v.vmcb.DR6(), exc(v))
	}
	x = exitState{code: svm.ExitExcBase + 1, rip: 0x4000} // a #DB of the guest's own
	if handleExit(v, &x); x.inject != svm.Exception(1, false, 0) {
		t.Fatalf("guest #DB not given back: inject %#x", x.inject)
	}
}

// TestInterruptWindow: an interrupt raised while the guest cannot take it
// (IF clear, or in STI's shadow) is offered through V_IRQ with the VINTR
// intercept and stays requested; once the guest can, it is injected,
// in service at once, and the entry exits at once after it (QEMU would
// deliver it twice otherwise).
func TestInterruptWindow(t *testing.T) {
	v := pcTestVCPU(t)
	v.lapic.Deliver(pc.Msg{Vector: 0x20})
	v.lapic.Deliver(pc.Msg{Vector: 0x31})
	for _, tc := range []struct {
		name   string
		rflags uint64
		shadow bool
	}{{"if-clear", 0x2, false}, {"sti-shadow", 0x202, true}} {
		v.vmcb.Set(testOffRFLAGS, tc.rflags)
		v.vmcb.SetInterruptShadow(tc.shadow)
		vec := v.apicPrepare(0, tc.rflags&0x200 != 0)
		v.setWindowIntercepts(vec != 0)
		if vec != 0x31 || v.vmcb.EventInj().Valid() || v.exitAtOnce() || misc1(v)&svm.InterceptVINTR == 0 {
			t.Fatalf("%s: offered %#x inject %#x misc1 %#x", tc.name, vec, v.vmcb.EventInj(), misc1(v))
		}
	}
	v.vmcb.Set(testOffRFLAGS, 0x202)
	v.vmcb.SetInterruptShadow(false)
	vec := v.apicPrepare(0, true)
	v.setWindowIntercepts(vec != 0)
	if v.vmcb.EventInj() != svm.Interrupt(0x31) || vec != 0 || !v.exitAtOnce() || misc1(v)&svm.InterceptVINTR != 0 {
		t.Fatalf("window open: inject %#x, offered %#x (0x20 waits behind 0x31 in service), misc1 %#x",
			v.vmcb.EventInj(), vec, misc1(v))
	}
	v.vmcb.SetEventInj(svm.NMI())
	if v.exitAtOnce() {
		t.Fatal("an NMI injection asks for an immediate exit (VMRUN injects it by leaving QEMU's loop)")
	}
}

// TestWriteExitEndsShadow: a handler that carried out the intercepted
// instruction (HLT after STI) ends the interrupt shadow it ran in; one
// that did not move RIP leaves it.
func TestWriteExitEndsShadow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		advance uint64
		want    bool
	}{{"hlt-done", 1, false}, {"not-moved", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			v := pcTestVCPU(t)
			v.vmcb.Set(testOffRIP, 0x1000)
			v.vmcb.SetInterruptShadow(true)
			x := exitState{rip: 0x1000 + tc.advance, efer: v.vmcb.EFER()}
			v.writeExit(&x)
			if v.vmcb.InterruptShadow() != tc.want || v.vmcb.RIP() != x.rip {
				t.Fatalf("shadow %v rip %#x", v.vmcb.InterruptShadow(), v.vmcb.RIP())
			}
		})
	}
}
