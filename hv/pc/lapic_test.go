package pc

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeClock is a settable Clock whose TSC runs at hz.
type fakeClock struct {
	ns atomic.Int64
	hz uint64
}

func newFakeClock() *fakeClock {
	c := &fakeClock{hz: 2_000_000_000}
	c.ns.Store(1_000_000)
	return c
}

func (c *fakeClock) Nanotime() int64       { return c.ns.Load() }
func (c *fakeClock) TSC() uint64           { return uint64(c.ns.Load()) * c.hz / 1e9 }
func (c *fakeClock) TSCHz() uint64         { return c.hz }
func (c *fakeClock) advance(d int64)       { c.ns.Add(d) }
func (c *fakeClock) tscAt(ns int64) uint64 { return uint64(ns) * c.hz / 1e9 }

// recorder is a Sink and EOIListener that remembers what it was told.
type recorder struct {
	mu   sync.Mutex
	msgs []Msg
	eois []uint8
}

func (r *recorder) Send(m Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
}

func (r *recorder) EOI(v uint8) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.eois = append(r.eois, v)
}

// newTestLAPIC returns APIC id 1, software enabled, with its recorder.
func newTestLAPIC(t *testing.T) (*LAPIC, *fakeClock, *recorder) {
	t.Helper()
	c, r := newFakeClock(), &recorder{}
	l := NewLAPIC(1, c, r, r)
	l.Write(regSVR, 4, 0x1FF)
	return l, c, r
}

func TestLAPICResetValues(t *testing.T) {
	for _, tc := range []struct {
		off  uint64
		want uint64
	}{
		{regID, 3 << 24}, {regVersion, apicVersion}, {regTPR, 0}, {regPPR, 0},
		{regLDR, 0}, {regDFR, 0xFFFFFFFF}, {regSVR, 0xFF}, {regISR, 0},
		{regIRR + 0x70, 0}, {regESR, 0}, {regICRLow, 0}, {regLVTCMCI, lvtMasked},
		{regLVTTimer, lvtMasked}, {0x350, lvtMasked}, {regLVTError, lvtMasked},
		{regTimerInit, 0}, {regTimerCur, 0}, {regTimerDiv, 0},
		{0x3F0, 0}, {regID + 4, 0},
	} {
		t.Run(fmt.Sprintf("%#x", tc.off), func(t *testing.T) {
			l := NewLAPIC(3, newFakeClock(), nil, nil)
			if got := l.Read(tc.off, 4); got != tc.want {
				t.Errorf("Read(%#x) = %#x, want %#x", tc.off, got, tc.want)
			}
		})
	}
}

func TestLAPICBaseMSR(t *testing.T) {
	for _, tc := range []struct {
		id   uint32
		want uint64
	}{{0, 0xFEE00900}, {1, 0xFEE00800}} {
		t.Run(fmt.Sprint(tc.id), func(t *testing.T) {
			l := NewLAPIC(tc.id, newFakeClock(), nil, nil)
			if v, ok := l.ReadMSR(apicBaseMSR); !ok || v != tc.want {
				t.Errorf("IA32_APIC_BASE = %#x, %v; want %#x", v, ok, tc.want)
			}
		})
	}
}

func TestLAPICRegisterWrites(t *testing.T) {
	for _, tc := range []struct {
		off       uint64
		val, want uint64
	}{
		{regTPR, 0x1F5, 0xF5},
		{regLDR, 0xFFFFFFFF, 0xFF000000},
		{regDFR, 0x0, 0x0FFFFFFF},
		{regSVR, 0xFFFFFFFF, 0x3FF},
		{regID, 0x07000000, 0x01000000},      // read-only here
		{regVersion, 0, apicVersion},         // read-only
		{regICRHigh, 0xFFFFFFFF, 0xFF000000}, // destination field only
		{regLVTTimer, 0xFFFFFFFF, 0x700FF},
		{regLVTCMCI, 0xFFFFFFFF, 0x107FF},
		{0x330, 0xFFFFFFFF, 0x107FF}, // thermal
		{0x340, 0xFFFFFFFF, 0x107FF}, // performance counters
		{0x350, 0xFFFFFFFF, 0x1A7FF}, // LINT0: remote IRR is read-only
		{0x360, 0x700, 0x700},        // LINT1 ExtINT, unmasked
		{regLVTError, 0xFFFFFFFF, 0x100FF},
		{regTimerDiv, 0xFF, 0xB},
	} {
		t.Run(fmt.Sprintf("%#x=%#x", tc.off, tc.val), func(t *testing.T) {
			l, _, _ := newTestLAPIC(t)
			l.Write(tc.off, 4, tc.val)
			if got := l.Read(tc.off, 4); got != tc.want {
				t.Errorf("read back %#x, want %#x", got, tc.want)
			}
		})
	}
}

func TestLAPICNarrowAccesses(t *testing.T) {
	l, _, _ := newTestLAPIC(t)
	l.Write(regTPR, 1, 0x40) // dropped: not a whole register
	if got := l.Read(regTPR, 4); got != 0 {
		t.Errorf("byte write changed TPR to %#x", got)
	}
	l.Write(regTPR, 8, 0xFFFF_FFFF_0000_0030)
	if got := l.Read(regTPR, 4); got != 0x30 {
		t.Errorf("8-byte write: TPR %#x, want 0x30", got)
	}
	if got := l.Read(regVersion+2, 1); got != 0x05 {
		t.Errorf("byte 2 of version = %#x, want 0x05", got)
	}
}

func TestLAPICSoftwareDisable(t *testing.T) {
	l, _, _ := newTestLAPIC(t)
	l.Write(regLVTTimer, 4, 0x20)
	l.Write(regSVR, 4, 0xFF) // software disable
	if got := l.Read(regLVTTimer, 4); got != lvtMasked|0x20 {
		t.Errorf("LVT timer after disable = %#x, want masked", got)
	}
	l.Write(regLVTTimer, 4, 0x20)
	if got := l.Read(regLVTTimer, 4); got&lvtMasked == 0 {
		t.Errorf("LVT timer unmasked while software disabled: %#x", got)
	}
	if l.Deliver(Msg{Vector: 0x40}) {
		t.Error("software-disabled APIC accepted a fixed interrupt")
	}
	if !l.Deliver(Msg{Mode: ModeNMI}) || !l.TakeNMI() {
		t.Error("software-disabled APIC lost an NMI")
	}
}

func TestLAPICPriority(t *testing.T) {
	for _, tc := range []struct {
		name     string
		raise    []uint8
		tpr      uint64
		inServ   []uint8 // accepted first, in order
		want     uint8
		wantNone bool
	}{
		{name: "highest first", raise: []uint8{0x31, 0x80, 0x45}, want: 0x80},
		{name: "tpr blocks class", raise: []uint8{0x45}, tpr: 0x40, wantNone: true},
		{name: "tpr below class", raise: []uint8{0x55}, tpr: 0x4F, want: 0x55},
		{name: "isr blocks same class", raise: []uint8{0x51, 0x52}, inServ: []uint8{0x52}, wantNone: true},
		{name: "isr lets higher class", raise: []uint8{0x61, 0x52}, inServ: []uint8{0x52}, want: 0x61},
		{name: "none", wantNone: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _, _ := newTestLAPIC(t)
			l.Write(regTPR, 4, tc.tpr)
			for _, v := range tc.raise {
				l.Deliver(Msg{Vector: v})
			}
			for _, v := range tc.inServ {
				l.Accept(v)
			}
			v, ok := l.Pending()
			if ok == tc.wantNone || ok && v != tc.want {
				t.Errorf("Pending = %#x, %v; want %#x, %v", v, ok, tc.want, !tc.wantNone)
			}
		})
	}
}

// TestLAPICTakePending: taking a vector puts it in service at once, so a
// second message for it while its handler runs (an IPI sent back to back,
// kvm-unit-tests' vmexit ipi) waits in the IRR and comes after the EOI
// instead of merging with the first.
func TestLAPICTakePending(t *testing.T) {
	l, _, _ := newTestLAPIC(t)
	l.Deliver(Msg{Vector: 0x40})
	if v, ok := l.TakePending(); !ok || v != 0x40 {
		t.Fatalf("TakePending = %#x, %v; want 0x40", v, ok)
	}
	l.Deliver(Msg{Vector: 0x40}) // the next IPI, during the handler
	if v, ok := l.TakePending(); ok {
		t.Fatalf("TakePending = %#x during the handler, want none (same class in service)", v)
	}
	l.Write(regEOI, 4, 0)
	if v, ok := l.TakePending(); !ok || v != 0x40 {
		t.Fatalf("after EOI TakePending = %#x, %v; want the second 0x40", v, ok)
	}
	l.Write(regEOI, 4, 0)
	if v, ok := l.TakePending(); ok {
		t.Fatalf("TakePending = %#x with nothing left", v)
	}
}

func TestLAPICAcceptAndEOI(t *testing.T) {
	l, _, r := newTestLAPIC(t)
	l.Deliver(Msg{Vector: 0x30})
	l.Deliver(Msg{Vector: 0x90, Level: true})
	l.Accept(0x30)
	l.Accept(0x90) // nested: higher class
	if got := l.Read(regISR+0x10, 4); got != 1<<16 {
		t.Errorf("ISR word 1 = %#x, want bit 16 (0x30)", got)
	}
	if got := l.Read(regPPR, 4); got != 0x90 {
		t.Errorf("PPR = %#x, want 0x90", got)
	}
	if got := l.Read(regTMR+0x40, 4); got != 1<<16 {
		t.Errorf("TMR word 4 = %#x, want bit 16 (0x90)", got)
	}
	l.Write(regEOI, 4, 0) // ends 0x90: level, told to the listener
	l.Write(regEOI, 4, 0) // ends 0x30: edge, not told
	if len(r.eois) != 1 || r.eois[0] != 0x90 {
		t.Errorf("EOIs told: %#x, want [0x90]", r.eois)
	}
	if got := l.Read(regISR+0x10, 4) | l.Read(regISR+0x40, 4); got != 0 {
		t.Errorf("ISR not empty after two EOIs: %#x", got)
	}
}

func TestLAPICIllegalVectors(t *testing.T) {
	l, _, r := newTestLAPIC(t)
	l.Write(regLVTError, 4, 0xFE)
	l.Deliver(Msg{Vector: 5})
	l.Write(regICRLow, 4, 0x4000|3) // fixed vector 3
	if len(r.msgs) != 0 {
		t.Errorf("illegal IPI was sent: %+v", r.msgs)
	}
	if got := l.Read(regESR, 4); got != 0 {
		t.Errorf("ESR before the latching write = %#x", got)
	}
	l.Write(regESR, 4, 0)
	if got := l.Read(regESR, 4); got != esrSendIllegal|esrRecvIllegal {
		t.Errorf("ESR = %#x, want send and receive illegal vector", got)
	}
	if v, ok := l.Pending(); !ok || v != 0xFE {
		t.Errorf("Pending = %#x, %v; want the LVT error vector 0xfe", v, ok)
	}
}

func TestLAPICICRMessages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hi, lo uint32
		want   *Msg
	}{
		{"fixed physical", 2 << 24, 0x4041, &Msg{Vector: 0x41, Dest: 2, Src: 1}},
		{"logical level", 0x0F << 24, 0xC941, &Msg{Vector: 0x41, Mode: ModeLowestPrio, Dest: 0xF, Logical: true, Level: true, Src: 1}},
		{"all but self NMI", 0, 0xC0400, &Msg{Mode: ModeNMI, Shorthand: ToAllButSelf, Src: 1}},
		{"INIT assert", 0, 0xC500, &Msg{Mode: ModeINIT, Level: true, Src: 1}},
		{"INIT de-assert", 0, 0x8500, nil},
		{"STARTUP", 0, 0x4608, &Msg{Vector: 8, Mode: ModeStartup, Src: 1}},
		{"self", 0, 0x40041, &Msg{Vector: 0x41, Shorthand: ToSelf, Src: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _, r := newTestLAPIC(t)
			l.Write(regICRHigh, 4, uint64(tc.hi))
			l.Write(regICRLow, 4, uint64(tc.lo))
			if tc.want == nil {
				if len(r.msgs) != 0 {
					t.Errorf("sent %+v, want nothing", r.msgs)
				}
				return
			}
			if len(r.msgs) != 1 || r.msgs[0] != *tc.want {
				t.Errorf("sent %+v, want %+v", r.msgs, *tc.want)
			}
			if got := l.Read(regICRLow, 4); got&icrDeliveryStatus != 0 {
				t.Errorf("ICR shows a send pending: %#x", got)
			}
		})
	}
}

func TestLAPICINITAndSIPI(t *testing.T) {
	l, _, _ := newTestLAPIC(t)
	l.Deliver(Msg{Vector: 0x40})
	if !l.Deliver(Msg{Mode: ModeINIT}) || !l.TakeINIT() || l.TakeINIT() {
		t.Fatal("INIT not reported exactly once")
	}
	if got := l.Read(regSVR, 4); got != 0xFF {
		t.Errorf("SVR after INIT = %#x, want the reset value 0xff", got)
	}
	if _, ok := l.Pending(); ok {
		t.Error("IRR survived INIT")
	}
	l.Deliver(Msg{Mode: ModeStartup, Vector: 0x9A})
	l.Deliver(Msg{Mode: ModeStartup, Vector: 0x11}) // the second of the pair
	if v, ok := l.TakeSIPI(); !ok || v != 0x9A {
		t.Errorf("TakeSIPI = %#x, %v; want 0x9a", v, ok)
	}
	if _, ok := l.TakeSIPI(); ok {
		t.Error("second STARTUP was kept")
	}
}

func TestLAPICBSPIgnoresSIPI(t *testing.T) {
	l := NewLAPIC(0, newFakeClock(), nil, nil)
	l.Deliver(Msg{Mode: ModeStartup, Vector: 0x10})
	if _, ok := l.TakeSIPI(); ok {
		t.Error("the BSP took a STARTUP")
	}
	l.Deliver(Msg{Mode: ModeINIT})
	l.Deliver(Msg{Mode: ModeStartup, Vector: 0x10})
	if _, ok := l.TakeSIPI(); ok {
		t.Error("the BSP took a STARTUP after INIT")
	}
}

func TestLAPICHardwareDisabled(t *testing.T) {
	l, _, _ := newTestLAPIC(t)
	l.Deliver(Msg{Vector: 0x40})
	if !l.WriteMSR(apicBaseMSR, Base) {
		t.Fatal("disabling the APIC was refused")
	}
	if got := l.Read(regVersion, 4); got != 0xFFFFFFFF {
		t.Errorf("page of a disabled APIC reads %#x, want all-ones", got)
	}
	if l.Deliver(Msg{Vector: 0x41}) || l.Deliver(Msg{Mode: ModeNMI}) || l.Deliver(Msg{Mode: ModeINIT}) {
		t.Error("disabled APIC accepted a message")
	}
	l.WriteMSR(apicBaseMSR, Base|apicBaseEN)
	if _, ok := l.Pending(); ok || l.Read(regSVR, 4) != 0xFF {
		t.Error("re-enabled APIC is not in its reset state")
	}
}
