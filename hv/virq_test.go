package hv

import (
	"errors"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"grove/errno"
	"grove/hv/abi"
	"grove/hv/svm"
)

// controlVCPU is vCPU 0 of a privileged domain, blocked (as in HLT), on a
// scheduler without loops, with COM2's interrupt made up: route fails with
// routeErr, and each value sent on arrive is one interrupt.
func controlVCPU(t *testing.T, routeErr error) (*VCPU, *fakeMem, chan struct{}) {
	t.Helper()
	v, m := fakeVCPU(t, true)
	d := v.dom
	arrive := make(chan struct{})
	t.Cleanup(func() { close(arrive) })
	d.hv = &Hypervisor{sched: newScheduler(time.Millisecond, 1)}
	d.hv.serial.host = hostIRQ{
		route: func() error { return routeErr },
		wait: func() error {
			if _, ok := <-arrive; !ok {
				return errors.New("test over")
			}
			return nil
		},
	}
	d.state, d.vcpus = domRunning, []*VCPU{v}
	v.state, v.guestIF = vcpuBlocked, true
	return v, m, arrive
}

// bindVIRQ makes event_op(EventBindVIRQ) with b at guest address 0x100.
func bindVIRQ(v *VCPU, m *fakeMem, b abi.VIRQBind) int64 {
	b.Encode(m.b[0x100:])
	_, ret, _ := vmmcall(v, abi.EventOp, abi.EventBindVIRQ, 0x100)
	return ret
}

// pendingVec reports whether vec waits in v's pending set.
func pendingVec(v *VCPU, vec uint8) bool {
	v.dom.hv.sched.mu.Lock()
	defer v.dom.hv.sched.mu.Unlock()
	return v.irq.isPending(vec)
}

func TestBindVIRQErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		privileged bool
		gva        uint64
		b          abi.VIRQBind
		routeErr   error
		want       errno.Errno
	}{
		{"not-control-domain", false, 0x100, abi.VIRQBind{VIRQ: abi.VIRQDomExc, Vector: 0x50}, nil, errno.EPERM},
		{"bad-pointer", true, 1 << 40, abi.VIRQBind{VIRQ: abi.VIRQDomExc, Vector: 0x50}, nil, errno.EFAULT},
		{"unknown-virq", true, 0x100, abi.VIRQBind{VIRQ: 5, Vector: 0x50}, nil, errno.EINVAL},
		{"exception-vector", true, 0x100, abi.VIRQBind{VIRQ: abi.VIRQDomExc, Vector: 13}, nil, errno.EINVAL},
		{"no-such-vcpu", true, 0x100, abi.VIRQBind{VIRQ: abi.VIRQDomExc, VCPU: 1, Vector: 0x50}, nil, errno.ENOENT},
		{"serial-unroutable", true, 0x100, abi.VIRQBind{VIRQ: abi.VIRQSerial, Vector: 0x51}, errno.ENODEV, errno.ENODEV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, m, _ := controlVCPU(t, tc.routeErr)
			v.dom.Privileged = tc.privileged
			tc.b.Encode(m.b[0x100:])
			if _, ret, _ := vmmcall(v, abi.EventOp, abi.EventBindVIRQ, tc.gva); ret != tc.want.Ret() {
				t.Fatalf("ret %d, want %d (%v)", ret, tc.want.Ret(), tc.want)
			}
		})
	}
}

// Every queued event raises the bound vector; events from before the
// binding raise it at the binding; after unbinding nothing is raised.
func TestVIRQDomExc(t *testing.T) {
	v, m, _ := controlVCPU(t, nil)
	h, s := v.dom.hv, v.dom.hv.sched
	s.mu.Lock()
	h.queueEventLocked(event{kind: abi.EventPaused, domain: 4}) // nobody bound: only queued
	s.mu.Unlock()
	if pendingVec(v, 0x52) {
		t.Fatal("raised before any binding")
	}
	if ret := bindVIRQ(v, m, abi.VIRQBind{VIRQ: abi.VIRQDomExc, Vector: 0x52}); ret != 0 {
		t.Fatalf("bind: %d", ret)
	}
	if !pendingVec(v, 0x52) || v.state != vcpuRunnable {
		t.Fatalf("an event waiting at the binding: pending %v, vcpu state %v", pendingVec(v, 0x52), v.state)
	}
	s.mu.Lock()
	v.irq = irqState{}
	h.queueEventLocked(event{kind: abi.EventUnpaused, domain: 4})
	s.mu.Unlock()
	if !pendingVec(v, 0x52) {
		t.Fatal("a queued event raised nothing")
	}
	if ret := bindVIRQ(v, m, abi.VIRQBind{VIRQ: abi.VIRQDomExc}); ret != 0 {
		t.Fatalf("unbind: %d", ret)
	}
	s.mu.Lock()
	v.irq = irqState{}
	h.queueEventLocked(event{kind: abi.EventPaused, domain: 5})
	s.mu.Unlock()
	if pendingVec(v, 0x52) {
		t.Fatal("raised after unbinding")
	}
	for _, want := range []uint32{abi.EventPaused, abi.EventUnpaused, abi.EventPaused} {
		if ev, lost, ok := h.events.pop(); !ok || ev.kind != want || lost != 0 {
			t.Fatalf("queue: %+v lost %d ok %v, want kind %d", ev, lost, ok, want)
		}
	}
}

// Binding VIRQSerial passes COM2's ports and forwards each interrupt;
// unbinding intercepts the ports again and forwards nothing.
func TestVIRQSerial(t *testing.T) {
	v, m, arrive := controlVCPU(t, nil)
	iopm, err := syscall.Mmap(-1, 0, svm.IOPMPages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(iopm) })
	v.dom.iopm = uintptr(unsafe.Pointer(&iopm[0]))
	svm.InitIOPM(v.dom.iopm)
	if ret := bindVIRQ(v, m, abi.VIRQBind{VIRQ: abi.VIRQSerial, Vector: 0x51}); ret != 0 {
		t.Fatalf("bind: %d", ret)
	}
	if iopm[com2Base/8] != 0 || iopm[com2Base/8-1] != 0xff || iopm[com2Base/8+1] != 0xff {
		t.Fatalf("IOPM around COM2: %#x %#x %#x", iopm[com2Base/8-1], iopm[com2Base/8], iopm[com2Base/8+1])
	}
	arrive <- struct{}{}
	for end := time.Now().Add(5 * time.Second); !pendingVec(v, 0x51); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the interrupt was not forwarded")
		}
	}
	if ret := bindVIRQ(v, m, abi.VIRQBind{VIRQ: abi.VIRQSerial}); ret != 0 {
		t.Fatalf("unbind: %d", ret)
	}
	if iopm[com2Base/8] != 0xff {
		t.Fatalf("COM2 still passed after unbinding: %#x", iopm[com2Base/8])
	}
	v.dom.hv.sched.mu.Lock()
	v.irq = irqState{}
	v.dom.hv.sched.mu.Unlock()
	arrive <- struct{}{} // taken by the forwarder: it raises into no binding
	time.Sleep(20 * time.Millisecond)
	if pendingVec(v, 0x51) {
		t.Fatal("forwarded after unbinding")
	}
}
