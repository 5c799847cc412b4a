package pc

import (
	"fmt"
	"reflect"
	"testing"
)

func ioapicRead(a *IOAPIC, reg uint8) uint32 {
	a.Write(ioregsel, 4, uint64(reg))
	return uint32(a.Read(iowin, 4))
}

func ioapicWrite(a *IOAPIC, reg uint8, v uint32) {
	a.Write(ioregsel, 4, uint64(reg))
	a.Write(iowin, 4, uint64(v))
}

// route programs pin n's redirection entry, high half first as Linux does.
func route(a *IOAPIC, n int, e uint64) {
	ioapicWrite(a, ioredtbl+uint8(2*n)+1, uint32(e>>32))
	ioapicWrite(a, ioredtbl+uint8(2*n), uint32(e))
}

func TestIOAPICRegisters(t *testing.T) {
	tests := []struct {
		name  string
		setup func(a *IOAPIC)
		off   uint64
		size  int
		reg   int // -1: read off directly
		want  uint64
	}{
		{"ID", nil, iowin, 4, ioapicID, 2 << 24},
		{"ID write", func(a *IOAPIC) { ioapicWrite(a, ioapicID, 0xffffffff) }, iowin, 4, ioapicID, 0xf << 24},
		{"VER", nil, iowin, 4, ioapicVER, 0x170020},
		{"ARB", nil, iowin, 4, ioapicARB, 2 << 24},
		{"reserved", nil, iowin, 4, 0x03, 0},
		{"past the table", nil, iowin, 4, ioredtbl + 2*IOAPICPins, 0},
		{"entry reset", nil, iowin, 4, ioredtbl + 6, redMask},
		{"entry high", func(a *IOAPIC) { route(a, 5, 0x03<<56|redMask|0x41) }, iowin, 4, ioredtbl + 11, 0x03 << 24},
		{"entry RO bits", func(a *IOAPIC) { route(a, 5, 0xffffffffffffffff) }, iowin, 4, ioredtbl + 10, redWritable & 0xffffffff},
		{"IOREGSEL", func(a *IOAPIC) { a.Write(ioregsel, 4, 0x1234) }, ioregsel, 4, -1, 0x34},
		{"byte read", nil, iowin, 1, -1, 0xff},
		{"word read", nil, ioregsel, 2, -1, 0xffff},
		{"other offset", nil, 0x20, 4, -1, 0xffffffff},
		{"byte write ignored", func(a *IOAPIC) { a.Write(ioregsel, 1, 1) }, ioregsel, 4, -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewIOAPIC(2, &msgLog{})
			if tc.setup != nil {
				tc.setup(a)
			}
			if tc.reg >= 0 {
				a.Write(ioregsel, 4, uint64(tc.reg))
			}
			if got := a.Read(tc.off, tc.size); got != tc.want {
				t.Errorf("read %#x = %#x, want %#x", tc.off, got, tc.want)
			}
		})
	}
}

func TestIOAPICEdge(t *testing.T) {
	sink := &msgLog{}
	a := NewIOAPIC(0, sink)
	pin := a.Pin(4)
	route(a, 4, 1<<56|redDestMod|uint64(ModeLowestPrio)<<8|0x24)
	pin.SetLevel(true)
	pin.SetLevel(true) // still high: no new edge
	pin.SetLevel(false)
	pin.SetLevel(true)
	want := Msg{Vector: 0x24, Mode: ModeLowestPrio, Dest: 1, Logical: true}
	if got := sink.take(); !reflect.DeepEqual(got, []Msg{want, want}) {
		t.Errorf("sent %+v, want two of %+v", got, want)
	}
}

// TestIOAPICMaskedEdge: an edge while masked is latched and sent once on
// unmask if its line is still up then; a pulse that ended while masked
// is dropped.
func TestIOAPICMaskedEdge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		levels []bool // the line while masked
		sent   int
	}{
		{"line-up", []bool{true, false, true}, 1},
		{"pulse-ended", []bool{true, false}, 0},
		{"never-rose", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &msgLog{}
			a := NewIOAPIC(0, sink)
			pin := a.Pin(2)
			route(a, 2, redMask|0x30)
			for _, l := range tc.levels {
				pin.SetLevel(l)
			}
			if got := sink.take(); len(got) != 0 {
				t.Fatalf("masked pin sent %+v", got)
			}
			route(a, 2, 0x30)
			route(a, 2, 0x30)
			if got := sink.take(); len(got) != tc.sent || tc.sent > 0 && got[0].Vector != 0x30 {
				t.Fatalf("on unmask sent %+v, want %d of 0x30", got, tc.sent)
			}
			pin.SetLevel(false)
			pin.SetLevel(true) // a new edge, unmasked, goes at once
			if got := sink.take(); len(got) != 1 {
				t.Fatalf("edge after unmask sent %+v, want one", got)
			}
		})
	}
}

func TestIOAPICLevel(t *testing.T) {
	for _, viaRegister := range []bool{false, true} {
		t.Run(fmt.Sprintf("EOI register %v", viaRegister), func(t *testing.T) {
			sink := &msgLog{}
			a := NewIOAPIC(0, sink)
			eoi := func(v uint8) {
				if viaRegister {
					a.Write(ioeoi, 4, uint64(v))
				} else {
					a.EOI(v)
				}
			}
			pin := a.Pin(9)
			route(a, 9, redTrigger|redIntPol|0x41)
			pin.SetLevel(true)
			if n := len(sink.take()); n != 1 || ioapicRead(a, ioredtbl+18)&redRemoteIRR == 0 {
				t.Fatalf("asserted level pin: %d sent, Remote IRR not set", n)
			}
			pin.SetLevel(true)
			eoi(0x42) // another vector
			if n := len(sink.take()); n != 0 {
				t.Fatalf("resent %d before its EOI", n)
			}
			eoi(0x41) // still asserted: again
			if got := sink.take(); len(got) != 1 || !got[0].Level {
				t.Fatalf("after EOI while asserted sent %+v", got)
			}
			pin.SetLevel(false)
			eoi(0x41)
			if n := len(sink.take()); n != 0 || ioapicRead(a, ioredtbl+18)&redRemoteIRR != 0 {
				t.Fatalf("after EOI while deasserted: %d sent, Remote IRR set", n)
			}
		})
	}
}

// TestIOAPICClearPin replays Linux's clear_IO_APIC_pin on a pin left with
// Remote IRR set: mask, re-read, EOI the vector, clear the entry.
func TestIOAPICClearPin(t *testing.T) {
	sink := &msgLog{}
	a := NewIOAPIC(0, sink)
	a.Pin(11).SetLevel(true)
	route(a, 11, redTrigger|0x51)
	route(a, 11, redTrigger|redMask|0x51)
	if ioapicRead(a, ioredtbl+22)&redRemoteIRR == 0 {
		t.Fatal("no Remote IRR to clear")
	}
	a.Write(ioeoi, 4, 0x51)
	route(a, 11, redMask)
	if e := ioapicRead(a, ioredtbl+22); e != redMask {
		t.Fatalf("entry %#x after clear, want masked and empty", e)
	}
	route(a, 12, redTrigger|0x52) // and the edge way of version 0x11
	a.Pin(12).SetLevel(true)
	route(a, 12, redMask|0x52)
	if e := ioapicRead(a, ioredtbl+24); e&redRemoteIRR != 0 {
		t.Fatalf("switching to edge left Remote IRR: %#x", e)
	}
}

func TestIOAPICPinRange(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Pin(24) did not panic")
		}
	}()
	NewIOAPIC(0, &msgLog{}).Pin(IOAPICPins)
}

// FuzzIOAPIC: any mix of register writes, pin changes and EOIs leaves no
// work undelivered: no unmasked pin holds a latched edge, and every
// unmasked asserted level pin has Remote IRR set.
func FuzzIOAPIC(f *testing.F) {
	f.Add([]byte{0, 0x10, 1, 0x30, 0, 0x11, 1, 0, 2, 0x80, 3, 0x30})
	f.Fuzz(func(t *testing.T, ops []byte) {
		a := NewIOAPIC(0, &msgLog{})
		for i := 0; i+4 < len(ops); i += 5 {
			v := uint32(ops[i+1]) | uint32(ops[i+2])<<8 | uint32(ops[i+3])<<16 | uint32(ops[i+4])<<24
			switch ops[i] & 7 {
			case 0:
				a.Write(ioregsel, 4, uint64(v))
			case 1:
				a.Write(iowin, 4, uint64(v))
			case 2:
				a.Pin(int(ops[i+1]) % IOAPICPins).SetLevel(ops[i+2]&1 != 0)
			case 3:
				a.EOI(uint8(v))
			case 4:
				a.Write(uint64(ops[i+1]), 1<<(ops[i+2]&3), uint64(v))
			default:
				a.Read(uint64(ops[i+1]), 1<<(ops[i+2]&3))
			}
		}
		for n, e := range a.red {
			if e&redMask == 0 && (a.latched[n] || waitsEOI(e) && a.asserted[n] && e&redRemoteIRR == 0) {
				t.Fatalf("pin %d entry %#x: work left undelivered", n, e)
			}
		}
	})
}
