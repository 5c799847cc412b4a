package pc

import (
	"fmt"
	"testing"
)

const (
	enXAPIC  = Base | apicBaseEN
	enX2APIC = Base | apicBaseEN | apicBaseEXTD
)

func TestLAPICBaseTransitions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to uint64
		ok       bool
	}{
		{"xAPIC to x2APIC", enXAPIC, enX2APIC, true},
		{"xAPIC to disabled", enXAPIC, Base, true},
		{"disabled to xAPIC", Base, enXAPIC, true},
		{"x2APIC to disabled", enX2APIC, Base, true},
		{"x2APIC to xAPIC", enX2APIC, enXAPIC, false},
		{"disabled to x2APIC", Base, enX2APIC, false},
		{"EXTD without EN", enXAPIC, Base | apicBaseEXTD, false},
		{"reserved bit 9", enXAPIC, enXAPIC | 1<<9, false},
		{"reserved bit 63", enXAPIC, enXAPIC | 1<<63, false},
		{"other base ignored", enXAPIC, 0xFED00000 | apicBaseEN, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLAPIC(1, newFakeClock(), nil, nil)
			if tc.from == enX2APIC && !l.WriteMSR(apicBaseMSR, enX2APIC) {
				t.Fatal("could not enter x2APIC mode")
			}
			if tc.from == Base && !l.WriteMSR(apicBaseMSR, Base) {
				t.Fatal("could not disable")
			}
			if ok := l.WriteMSR(apicBaseMSR, tc.to); ok != tc.ok {
				t.Fatalf("WRMSR %#x = %v, want %v", tc.to, ok, tc.ok)
			}
			v, _ := l.ReadMSR(apicBaseMSR)
			want := tc.from
			if tc.ok {
				want = tc.to&^apicBaseAddr | Base
			}
			if v != want {
				t.Errorf("IA32_APIC_BASE = %#x, want %#x", v, want)
			}
		})
	}
}

// newX2APIC returns APIC id 0x23 in x2APIC mode, software enabled.
func newX2APIC(t *testing.T) (*LAPIC, *recorder) {
	t.Helper()
	r := &recorder{}
	l := NewLAPIC(0x23, newFakeClock(), r, r)
	if !l.WriteMSR(apicBaseMSR, enX2APIC) || !l.WriteMSR(0x80F, 0x1FF) {
		t.Fatal("could not enable x2APIC mode")
	}
	return l, r
}

func TestX2APICReads(t *testing.T) {
	for _, tc := range []struct {
		msr  uint32
		want uint64
		ok   bool
	}{
		{0x802, 0x23, true},         // ID: 32 bits, not shifted
		{0x803, apicVersion, true},  // version
		{0x80D, 2<<16 | 1<<3, true}, // LDR: cluster 2, bit 3
		{0x80F, 0x1FF, true},        // SVR
		{0x830, 0, true},            // ICR, 64 bits
		{0x80B, 0, false},           // EOI is write-only
		{0x83F, 0, false},           // SELF IPI is write-only
		{0x80E, 0, false},           // no DFR
		{0x831, 0, false},           // no ICR high half
		{0x809, 0, false},           // no APR
		{0x8FF, 0, false},           // reserved
		{tscDeadlineMSR, 0, true},   // not in TSC-deadline mode
		{0x80A, 0, true},            // PPR
		{0x832, lvtMasked, true},    // LVT timer
	} {
		t.Run(fmt.Sprintf("%#x", tc.msr), func(t *testing.T) {
			l, _ := newX2APIC(t)
			v, ok := l.ReadMSR(tc.msr)
			if ok != tc.ok || v != tc.want {
				t.Errorf("RDMSR %#x = %#x, %v; want %#x, %v", tc.msr, v, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestX2APICWrites(t *testing.T) {
	for _, tc := range []struct {
		msr uint32
		val uint64
		ok  bool
	}{
		{0x808, 0x20, true},     // TPR
		{0x80B, 0, true},        // EOI
		{0x80B, 1, false},       // EOI must be 0
		{0x828, 0, true},        // ESR
		{0x828, 1, false},       // ESR must be 0
		{0x802, 5, false},       // ID is read-only
		{0x80D, 1, false},       // LDR is read-only
		{0x80A, 0, false},       // PPR is read-only
		{0x839, 0, false},       // current count is read-only
		{0x80E, 0, false},       // no DFR
		{0x808, 1 << 32, false}, // 32-bit register
		{0x838, 1000, true},     // initial count
		{0x83E, 0xB, true},      // divide
	} {
		t.Run(fmt.Sprintf("%#x=%#x", tc.msr, tc.val), func(t *testing.T) {
			l, _ := newX2APIC(t)
			if ok := l.WriteMSR(tc.msr, tc.val); ok != tc.ok {
				t.Errorf("WRMSR %#x = %v, want %v", tc.msr, ok, tc.ok)
			}
		})
	}
}

func TestX2APICICRAndSelfIPI(t *testing.T) {
	l, r := newX2APIC(t)
	if !l.WriteMSR(0x830, 0x1234_5678<<32|0x4051) {
		t.Fatal("ICR write refused")
	}
	want := Msg{Vector: 0x51, Dest: 0x1234_5678, Src: 0x23}
	if len(r.msgs) != 1 || r.msgs[0] != want {
		t.Errorf("sent %+v, want %+v", r.msgs, want)
	}
	if v, _ := l.ReadMSR(0x830); v != 0x1234_5678<<32|0x4051 {
		t.Errorf("ICR reads %#x", v)
	}
	l.WriteMSR(0x83F, 0x66)
	if v, ok := l.Pending(); !ok || v != 0x66 {
		t.Errorf("after SELF IPI Pending = %#x, %v; want 0x66", v, ok)
	}
}

func TestX2APICModeGatesInterfaces(t *testing.T) {
	l := NewLAPIC(1, newFakeClock(), nil, nil)
	if _, ok := l.ReadMSR(0x802); ok {
		t.Error("x2APIC MSR readable in xAPIC mode")
	}
	if l.WriteMSR(0x808, 0) {
		t.Error("x2APIC MSR writable in xAPIC mode")
	}
	l.WriteMSR(apicBaseMSR, enX2APIC)
	if got := l.Read(regID, 4); got != 0xFFFFFFFF {
		t.Errorf("xAPIC page in x2APIC mode reads %#x, want all-ones", got)
	}
	l.Write(regTPR, 4, 0x30)
	if v, _ := l.ReadMSR(0x808); v != 0 {
		t.Errorf("xAPIC page write reached TPR in x2APIC mode: %#x", v)
	}
}

func TestHasMSR(t *testing.T) {
	for msr, want := range map[uint32]bool{
		0x1B: true, 0x6E0: true, 0x800: true, 0x8FF: true, 0x900: false, 0x10: false,
	} {
		if HasMSR(msr) != want {
			t.Errorf("HasMSR(%#x) = %v", msr, !want)
		}
	}
}
