package pc

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// kicks records Kick calls.
type kicks struct {
	mu   sync.Mutex
	vcpu []int
}

func (k *kicks) kick(i int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.vcpu = append(k.vcpu, i)
}

// newTestBus returns a bus of n software-enabled xAPICs.
func newTestBus(t *testing.T, n int) (*Bus, *kicks) {
	t.Helper()
	k := &kicks{}
	b, err := NewBus(n, newFakeClock(), k.kick)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		b.LAPIC(i).Write(regSVR, 4, 0x1FF)
	}
	return b, k
}

// pendingOn lists the vCPUs whose APIC has vector v requested.
func pendingOn(b *Bus, v uint8) []int {
	var on []int
	for i, l := range b.lapics {
		if got, ok := l.Pending(); ok && got == v {
			on = append(on, i)
		}
	}
	return on
}

func TestNewBusSizes(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			_, err := NewBus(n, newFakeClock(), nil)
			if ok := n >= 1 && n <= MaxVCPUs; (err == nil) != ok {
				t.Errorf("NewBus(%d) error %v, want ok=%v", n, err, ok)
			}
		})
	}
}

func TestBusRouting(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Msg
		want []int
	}{
		{"physical", Msg{Dest: 2}, []int{2}},
		{"physical missing", Msg{Dest: 9}, nil},
		{"xAPIC broadcast", Msg{Dest: 0xFF}, []int{0, 1, 2, 3}},
		{"x2APIC broadcast", Msg{Dest: 0xFFFFFFFF}, []int{0, 1, 2, 3}},
		{"self", Msg{Shorthand: ToSelf, Src: 1, Dest: 3}, []int{1}},
		{"all", Msg{Shorthand: ToAll, Src: 1}, []int{0, 1, 2, 3}},
		{"all but self", Msg{Shorthand: ToAllButSelf, Src: 1}, []int{0, 2, 3}},
		{"flat logical", Msg{Logical: true, Dest: 0b1010}, []int{1, 3}},
		{"flat logical broadcast", Msg{Logical: true, Dest: 0xFF}, []int{0, 1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, k := newTestBus(t, 4)
			for i := range 4 { // Linux's flat model: LDR bit i for CPU i
				b.LAPIC(i).Write(regLDR, 4, 1<<(24+i))
			}
			tc.m.Vector = 0x50
			b.Send(tc.m)
			if got := pendingOn(b, 0x50); !slices.Equal(got, tc.want) {
				t.Errorf("delivered to %v, want %v", got, tc.want)
			}
			if !slices.Equal(k.vcpu, tc.want) {
				t.Errorf("kicked %v, want %v", k.vcpu, tc.want)
			}
		})
	}
}

func TestBusClusterLogical(t *testing.T) {
	b, _ := newTestBus(t, 6)
	ldr := []uint32{0x11, 0x12, 0x14, 0x18, 0x21, 0x22} // cluster 1: 0-3, 2: 4-5
	for i, v := range ldr {
		b.LAPIC(i).Write(regDFR, 4, 0x0FFFFFFF)
		b.LAPIC(i).Write(regLDR, 4, uint64(v)<<24)
	}
	for _, tc := range []struct {
		dest uint32
		want []int
	}{
		{0x13, []int{0, 1}}, {0x28, nil}, {0x23, []int{4, 5}}, {0xF1, []int{0, 4}}, {0xFF, []int{0, 1, 2, 3, 4, 5}},
	} {
		t.Run(fmt.Sprintf("%#x", tc.dest), func(t *testing.T) {
			var got []int
			for i, l := range b.lapics {
				if l.matchLogical(tc.dest) {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBusX2APICLogical(t *testing.T) {
	b, _ := newTestBus(t, 20)
	for i := range 20 {
		if !b.LAPIC(i).WriteMSR(apicBaseMSR, enX2APIC) {
			t.Fatal("x2APIC enable refused")
		}
	}
	for _, tc := range []struct {
		dest uint32
		want []int
	}{
		{0x0000_0003, []int{0, 1}}, {0x0001_0001, []int{16}}, {0x0001_0010, nil}, {0xFFFFFFFF, nil},
	} {
		t.Run(fmt.Sprintf("%#x", tc.dest), func(t *testing.T) {
			var got []int
			for i, l := range b.lapics {
				if l.matchLogical(tc.dest) {
					got = append(got, i)
				}
			}
			if tc.dest == 0xFFFFFFFF {
				if len(got) != 20 {
					t.Errorf("broadcast matched %d APICs, want 20", len(got))
				}
				return
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBusLowestPriority(t *testing.T) {
	b, _ := newTestBus(t, 4)
	b.LAPIC(0).Write(regTPR, 4, 0x20)
	b.LAPIC(1).Write(regTPR, 4, 0x10)
	b.LAPIC(2).Write(regTPR, 4, 0x10)
	b.LAPIC(3).Write(regSVR, 4, 0xFF) // software-disabled: never chosen
	seen := map[int]int{}
	for range 8 {
		b.Send(Msg{Vector: 0x60, Mode: ModeLowestPrio, Dest: 0xFF})
		on := pendingOn(b, 0x60)
		if len(on) != 1 {
			t.Fatalf("lowest-priority message on %v, want one APIC", on)
		}
		seen[on[0]]++
		b.LAPIC(on[0]).Accept(0x60)
		b.LAPIC(on[0]).Write(regEOI, 4, 0)
	}
	if len(seen) != 2 || seen[1] == 0 || seen[2] == 0 {
		t.Errorf("chosen %v, want APICs 1 and 2 (lowest TPR) in turn", seen)
	}
}

func TestBusEOIListeners(t *testing.T) {
	b, _ := newTestBus(t, 2)
	r1, r2 := &recorder{}, &recorder{}
	b.AddEOIListener(r1)
	b.AddEOIListener(r2)
	b.Send(Msg{Vector: 0x70, Dest: 1, Level: true})
	l := b.LAPIC(1)
	l.Accept(0x70)
	l.Write(regEOI, 4, 0)
	if !slices.Equal(r1.eois, []uint8{0x70}) || !slices.Equal(r2.eois, []uint8{0x70}) {
		t.Errorf("listeners told %v and %v, want [0x70] each", r1.eois, r2.eois)
	}
}

// TestBusStartsAP sends Linux's INIT, INIT de-assert, STARTUP, STARTUP
// from the BSP's ICR and checks what the AP's hypervisor loop would take.
func TestBusStartsAP(t *testing.T) {
	b, k := newTestBus(t, 2)
	bsp, ap := b.LAPIC(0), b.LAPIC(1)
	for _, lo := range []uint64{0xC500, 0x8500, 0x0609, 0x0609} {
		bsp.Write(regICRHigh, 4, 1<<24)
		bsp.Write(regICRLow, 4, lo)
	}
	if !ap.TakeINIT() {
		t.Error("AP got no INIT")
	}
	if v, ok := ap.TakeSIPI(); !ok || v != 9 {
		t.Errorf("AP STARTUP = %#x, %v; want 9", v, ok)
	}
	if _, ok := ap.TakeSIPI(); ok {
		t.Error("AP kept the second STARTUP")
	}
	if !slices.Equal(k.vcpu, []int{1, 1}) {
		t.Errorf("kicked %v, want vCPU 1 for INIT and the first STARTUP", k.vcpu)
	}
}

// TestBusConcurrentIPIs has every vCPU send IPIs to all others while each
// also takes and ends its own (run it under -race). IPIs coalesce in the
// IRR, but every vector sent must reach every other vCPU at least once.
func TestBusConcurrentIPIs(t *testing.T) {
	const n, rounds = 4, 256
	b, _ := newTestBus(t, n)
	seen := make([]vecSet, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := b.LAPIC(i)
			for r := range rounds {
				l.Write(regICRLow, 4, uint64(3<<18|0x40+r%64))
				take(l, &seen[i])
			}
		}()
	}
	wg.Wait()
	for i := range n {
		take(b.LAPIC(i), &seen[i])
		for v := 0x40; v < 0x80; v++ {
			if !seen[i].has(uint8(v)) {
				t.Errorf("vCPU %d never got vector %#x", i, v)
			}
		}
	}
}

// take services every interrupt l has pending, noting the vectors.
func take(l *LAPIC, seen *vecSet) {
	for {
		v, ok := l.Pending()
		if !ok {
			return
		}
		seen.set(v)
		l.Accept(v)
		l.Write(regEOI, 4, 0)
	}
}
