package pc

import (
	"regexp"
	"testing"
)

// The state lines show what each device holds: vectors requested and in
// service, the pin's redirection and input, the UART's interrupt ID.
func TestStateLines(t *testing.T) {
	var s vecSet
	if got := s.String(); got != "[]" {
		t.Errorf("empty set %q", got)
	}
	s.set(0x20)
	s.set(0xec)
	if got := s.String(); got != "[0x20 0xec]" {
		t.Errorf("set %q, want [0x20 0xec]", got)
	}

	sink := &msgLog{}
	a := NewIOAPIC(0, sink)
	a.Write(ioregsel, 4, ioredtbl+2*4)
	a.Write(iowin, 4, 0x23)
	a.Pin(4).SetLevel(true)
	if got, want := a.PinState(4), `^pin4 vector=0x23 mode=0 .*masked=false remote-irr=false asserted=true latched=false$`; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("PinState(4) = %q, want /%s/", got, want)
	}

	r := newUARTRig()
	r.outb(uartIER, ierERBFI)
	r.outb(uartMCR, mcrOUT2)
	r.u.Receive([]byte("xy"))
	if got, want := r.u.State(), `^ier=0x1 iir=0x4 mcr=0x8 .* rx=2 .*line=true dropped=0$`; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("UART State = %q, want /%s/", got, want)
	}
}
