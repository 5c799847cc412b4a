package pc

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

type uartRig struct {
	u    *UART
	line *lineLog
	out  bytes.Buffer
}

func newUARTRig() *uartRig {
	r := &uartRig{line: &lineLog{}}
	r.u = NewUART(func(b byte) { r.out.WriteByte(b) }, r.line)
	return r
}

func (r *uartRig) in(off uint64) uint8      { return uint8(r.u.Read(off, 1)) }
func (r *uartRig) outb(off uint64, v uint8) { r.u.Write(off, 1, uint64(v)) }

// TestUARTRegisters: one register access sequence per row, with the value
// the last read must give.
func TestUARTRegisters(t *testing.T) {
	type w struct {
		off uint64
		v   uint8
	}
	tests := []struct {
		name   string
		writes []w
		read   uint64
		want   uint8
	}{
		{"DLL with DLAB", []w{{uartLCR, 0x80}, {uartDLL, 0x0c}}, uartDLL, 0x0c},
		{"DLM with DLAB", []w{{uartLCR, 0x80}, {uartDLM, 0x01}}, uartDLM, 0x01},
		{"IER hidden by DLAB", []w{{uartIER, 0x05}, {uartLCR, 0x83}, {uartDLM, 0}, {uartLCR, 0x03}}, uartIER, 0x05},
		{"DLL survives DLAB off", []w{{uartLCR, 0x80}, {uartDLL, 1}, {uartLCR, 0x03}, {uartLCR, 0x83}}, uartDLL, 1},
		{"IER keeps 4 bits", []w{{uartIER, 0xff}}, uartIER, 0x0f},
		{"LCR", []w{{uartLCR, 0x1b}}, uartLCR, 0x1b},
		{"MCR keeps 5 bits", []w{{uartMCR, 0xff}}, uartMCR, 0x1f},
		{"SCR", []w{{uartSCR, 0x5a}}, uartSCR, 0x5a},
		{"LSR idle", nil, uartLSR, lsrTHRE | lsrTEMT},
		{"LSR write ignored", []w{{uartLSR, 0}}, uartLSR, lsrTHRE | lsrTEMT},
		{"MSR null modem", nil, uartMSR, msCTS | msDSR | msDCD},
		{"IIR reset", nil, uartIIR, iirNoInt},
		{"IIR FIFOs on", []w{{uartFCR, 0x01}}, uartIIR, 0xc1},
		{"IIR FIFOs off", []w{{uartFCR, 0x01}, {uartFCR, 0}}, uartIIR, iirNoInt},
		{"FCR ignored without enable", []w{{uartFCR, 0xc0}}, uartIIR, iirNoInt},
		{"loopback RTS|OUT2", []w{{uartMCR, mcrLOOP | mcrOUT2 | mcrRTS}}, uartMSR, 0x90 | msDDSR},
		{"loopback DTR|OUT1", []w{{uartMCR, mcrLOOP | mcrDTR | mcrOUT1}}, uartMSR, msDSR | msRI | msDCTS | msDDCD},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newUARTRig()
			for _, x := range tc.writes {
				r.outb(x.off, x.v)
			}
			if got := r.in(tc.read); got != tc.want {
				t.Errorf("read %d = %#x, want %#x", tc.read, got, tc.want)
			}
		})
	}
}

// linuxProbe replays the register checks of Linux 6.1's 8250 autoconfig()
// and autoconfig_16550a() for a port without UPF_SKIP_TEST and says what
// it would conclude.
func linuxProbe(r *uartRig) string {
	r.outb(uartIER, 0)
	s2 := r.in(uartIER) & 0x0f
	r.outb(uartIER, 0x0f)
	s3 := r.in(uartIER) & 0x0f
	r.outb(uartIER, 0)
	if s2 != 0 || s3 != 0x0f {
		return "no UART (IER test)"
	}
	r.outb(uartMCR, mcrLOOP|0x0a)
	st := r.in(uartMSR) & 0xf0
	r.outb(uartMCR, 0)
	if st != 0x90 {
		return fmt.Sprintf("no UART (loopback MSR %#x)", st)
	}
	r.outb(uartLCR, 0xbf)
	r.outb(2, 0) // EFR on enhanced parts, FCR here
	r.outb(uartLCR, 0)
	r.outb(uartFCR, fcrEnable)
	if r.in(uartIIR)>>6 != 3 {
		return "not a 16550A (IIR FIFO bits)"
	}
	for _, lcr := range []uint8{0x80, 0xbf} { // EFR probes must fail
		r.outb(uartLCR, lcr)
		if r.in(2) == 0 {
			return fmt.Sprintf("EFR seen with LCR %#x", lcr)
		}
	}
	r.outb(uartLCR, 0)
	r.outb(uartFCR, fcrEnable|0x20) // 64-byte FIFO on a 16750
	if r.in(uartIIR)&0xe0 != 0xc0 {
		return "16750"
	}
	r.outb(uartIER, 0x40) // XScale UUE bit must not stick
	if r.in(uartIER)&0x40 != 0 {
		return "XScale"
	}
	return "16550A"
}

func TestUARTLinuxProbe(t *testing.T) {
	if got := linuxProbe(newUARTRig()); got != "16550A" {
		t.Fatalf("Linux would see %q, want 16550A", got)
	}
}

// TestUARTTHRETest replays serial8250_do_startup's THRE re-assertion test:
// a UART that fails it gets Linux's UART_BUG_THRE timer workaround.
func TestUARTTHRETest(t *testing.T) {
	r := newUARTRig()
	r.outb(uartFCR, fcrEnable)
	r.outb(uartIER, ierETBEI)
	iir1 := r.in(uartIIR)
	if r.in(uartIIR) != 0xc1 {
		t.Errorf("THRE interrupt not cleared by the IIR read that reported it")
	}
	r.outb(uartIER, 0)
	r.outb(uartIER, ierETBEI)
	iir := r.in(uartIIR)
	r.outb(uartIER, 0)
	if iir1 != 0xc2 || iir != 0xc2 {
		t.Fatalf("IIR after IER.ETBEI: %#x then %#x, want 0xc2 both times", iir1, iir)
	}
}

func TestUARTTransmit(t *testing.T) {
	r := newUARTRig()
	r.outb(uartMCR, mcrOUT2)
	r.outb(uartIER, ierETBEI)
	if high, rises := r.line.state(); !high || rises != 1 {
		t.Fatalf("after IER.ETBEI: line %v rises %d, want high once", high, rises)
	}
	for _, b := range []byte("hi\n") {
		r.outb(uartTHR, b)
	}
	if r.out.String() != "hi\n" {
		t.Errorf("output %q", r.out.String())
	}
	// Each THR write re-raises THRE: an edge per byte for the edge pin.
	if high, rises := r.line.state(); !high || rises != 4 {
		t.Errorf("line %v rises %d, want high after 4 rises", high, rises)
	}
	r.in(uartIIR)
	if high, _ := r.line.state(); high {
		t.Errorf("line still high after IIR read cleared THRE")
	}
}

func TestUARTOUT2GatesIRQ(t *testing.T) {
	tests := []struct {
		mcr  uint8
		want bool
	}{{0, false}, {mcrOUT2, true}, {mcrOUT1 | mcrDTR | mcrRTS, false}, {mcrOUT2 | mcrLOOP, false}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("MCR=%#x", tc.mcr), func(t *testing.T) {
			r := newUARTRig()
			r.outb(uartIER, ierERBFI)
			r.u.Receive([]byte("x"))
			r.outb(uartMCR, tc.mcr)
			if high, _ := r.line.state(); high != tc.want {
				t.Errorf("line %v, want %v", high, tc.want)
			}
		})
	}
}

func TestUARTReceive(t *testing.T) {
	tests := []struct {
		fcr    uint8
		n      int
		wantID uint8
	}{
		{0, 1, iirRDA},
		{fcrEnable, 1, iirRDA | iirFIFOs},
		{fcrEnable | 0x80, 4, iirCTI | iirFIFOs},
		{fcrEnable | 0x80, 8, iirRDA | iirFIFOs},
		{fcrEnable | 0xc0, 30, iirRDA | iirFIFOs},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("FCR=%#x/%d", tc.fcr, tc.n), func(t *testing.T) {
			r := newUARTRig()
			r.outb(uartFCR, tc.fcr)
			r.outb(uartIER, ierERBFI)
			r.outb(uartMCR, mcrOUT2)
			in := make([]byte, tc.n)
			for i := range in {
				in[i] = byte('a' + i)
			}
			r.u.Receive(in)
			if id := r.in(uartIIR); id != tc.wantID {
				t.Errorf("IIR %#x, want %#x", id, tc.wantID)
			}
			var got []byte
			for r.in(uartLSR)&lsrDR != 0 {
				got = append(got, r.in(uartRBR))
			}
			if !bytes.Equal(got, in) {
				t.Errorf("read %q, want %q", got, in)
			}
			if high, _ := r.line.state(); high || r.in(uartIIR)&0x0f != iirNoInt {
				t.Errorf("interrupt still pending after draining")
			}
		})
	}
}

func TestUARTOverrun(t *testing.T) {
	r := newUARTRig()
	r.outb(uartIER, ierERBFI|ierELSI)
	if n := r.u.Receive(make([]byte, UARTInputBuffer+10)); n != UARTInputBuffer {
		t.Errorf("accepted %d, want %d", n, UARTInputBuffer)
	}
	if d := r.u.Dropped(); d != 10 {
		t.Errorf("dropped %d, want 10", d)
	}
	if id := r.in(uartIIR); id != iirRLS {
		t.Errorf("IIR %#x, want line status first", id)
	}
	if lsr := r.in(uartLSR); lsr&lsrOE == 0 || r.in(uartLSR)&lsrOE != 0 {
		t.Errorf("LSR.OE not set once: %#x", lsr)
	}
	if id := r.in(uartIIR); id != iirRDA {
		t.Errorf("IIR %#x after LSR read, want RX data", id)
	}
}

// A break arrives as a zero character with LSR.BI, which the next LSR
// read clears, behind the bytes already waiting and before the ones sent
// with it; it raises the line status interrupt, as Linux's 8250 driver
// expects of a magic SysRq request.
func TestUARTBreak(t *testing.T) {
	r := newUARTRig()
	r.outb(uartFCR, fcrEnable)
	r.outb(uartIER, ierERBFI|ierELSI)
	r.outb(uartMCR, mcrOUT2)
	r.u.Receive([]byte("a"))
	if n := r.u.Break([]byte("h")); n != 1 {
		t.Fatalf("Break took %d bytes, want 1", n)
	}
	if lsr := r.in(uartLSR); lsr&lsrBI != 0 || lsr&lsrDR == 0 {
		t.Errorf("LSR %#x before the break's character, want DR without BI", lsr)
	}
	if b := r.in(uartRBR); b != 'a' {
		t.Errorf("first byte %q, want 'a'", b)
	}
	if id := r.in(uartIIR) & 0x0f; id != iirRLS {
		t.Errorf("IIR %#x with the break at the head, want line status", id)
	}
	if lsr := r.in(uartLSR); lsr&(lsrBI|lsrDR) != lsrBI|lsrDR {
		t.Errorf("LSR %#x at the break, want BI and DR", lsr)
	}
	if lsr := r.in(uartLSR); lsr&lsrBI != 0 {
		t.Errorf("LSR %#x: BI not cleared by the read before", lsr)
	}
	if b := r.in(uartRBR); b != 0 {
		t.Errorf("break character %#x, want 0", b)
	}
	if b := r.in(uartRBR); b != 'h' {
		t.Errorf("byte after the break %q, want 'h'", b)
	}
	if high, _ := r.line.state(); high || r.in(uartLSR)&(lsrBI|lsrDR) != 0 {
		t.Errorf("interrupt or data left after the break was read")
	}
}

func TestUARTFIFOReset(t *testing.T) {
	r := newUARTRig()
	r.outb(uartFCR, fcrEnable)
	r.u.Receive([]byte("0123456789abcdefXYZ"))
	r.outb(uartFCR, fcrEnable|fcrRXReset) // drops the 16 in the FIFO
	var got []byte
	for r.in(uartLSR)&lsrDR != 0 {
		got = append(got, r.in(uartRBR))
	}
	if string(got) != "XYZ" {
		t.Fatalf("after RX FIFO reset read %q, want XYZ", got)
	}
}

func TestUARTLoopbackData(t *testing.T) {
	r := newUARTRig()
	r.outb(uartMCR, mcrLOOP)
	r.outb(uartTHR, 'Q')
	if r.out.Len() != 0 {
		t.Errorf("loopback byte reached the output")
	}
	if r.in(uartLSR)&lsrDR == 0 || r.in(uartRBR) != 'Q' {
		t.Errorf("loopback byte not received")
	}
}

func TestUARTModemStatusInterrupt(t *testing.T) {
	r := newUARTRig()
	r.outb(uartIER, ierEDSSI)
	r.outb(uartMCR, mcrLOOP|mcrOUT1)
	r.outb(uartMCR, mcrLOOP) // RI falls: TERI
	if id := r.in(uartIIR); id != iirMS {
		t.Errorf("IIR %#x, want modem status", id)
	}
	if msr := r.in(uartMSR); msr&msTERI == 0 {
		t.Errorf("MSR %#x lacks TERI", msr)
	}
	if id := r.in(uartIIR); id != iirNoInt {
		t.Errorf("IIR %#x after MSR read, want none", id)
	}
}

// TestUARTWideAccess: outw splits into successive ports, low byte first.
func TestUARTWideAccess(t *testing.T) {
	r := newUARTRig()
	r.u.Write(uartLCR, 2, 0x0b83)
	if lcr, mcr := r.in(uartLCR), r.in(uartMCR); lcr != 0x83 || mcr != 0x0b {
		t.Errorf("LCR %#x MCR %#x, want 0x83 0x0b", lcr, mcr)
	}
	if v := r.u.Read(uartSCR, 4); v != 0xffffff00 {
		t.Errorf("read past the last register = %#x, want ones beyond SCR", v)
	}
}

// TestUARTConcurrent: console input and a vCPU race; the line must end
// where the final state puts it.
func TestUARTConcurrent(t *testing.T) {
	r := newUARTRig()
	r.u.out = nil
	r.outb(uartMCR, mcrOUT2)
	r.outb(uartIER, ierERBFI)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			r.u.Receive([]byte{byte(i)})
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 4000; i++ {
			if r.in(uartLSR)&lsrDR != 0 {
				r.in(uartRBR)
			}
			r.outb(uartTHR, 'x')
		}
	}()
	wg.Wait()
	r.u.mu.Lock()
	want := r.u.levelLocked()
	r.u.mu.Unlock()
	if high, _ := r.line.state(); high != want {
		t.Fatalf("line %v, state says %v", high, want)
	}
}

// FuzzUART drives register accesses and input in any order: nothing may
// panic, the IIR must stay well formed and the line must follow the state.
func FuzzUART(f *testing.F) {
	f.Add([]byte{0x81, 0x0f, 0x84, 0x08, 0x40, 0x05, 0x02, 0x00})
	f.Add([]byte{0x82, 0xc1, 0x84, 0x18, 0x80, 'a', 0x06, 0x06})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r := newUARTRig()
		for i := 0; i+1 < len(ops); i += 2 {
			op, v := ops[i], ops[i+1]
			switch {
			case op&0x80 != 0:
				r.outb(uint64(op&7), v)
			case op == 0x40:
				r.u.Break([]byte{v})
			case op&0x40 != 0:
				r.u.Receive(bytes.Repeat([]byte{v}, int(op&0x3f)))
			default:
				r.in(uint64(op & 7))
			}
			checkUART(t, r)
			checkFastState(t, r)
		}
	})
}

// uartSnap is a UART's state as the guest can observe it. thrPending only
// matters while ETBEI is on: turning ETBEI on sets it afresh.
type uartSnap struct {
	ier, lcr, mcr, scr, dll, dlm, lsrErr, msr uint8
	fifoOn, thrPending                        bool
	trigger, rxHead, rxN                      int
	rx                                        [UARTInputBuffer]byte
	rxBreak                                   [UARTInputBuffer]bool
}

func snapUART(u *UART) uartSnap {
	u.mu.Lock()
	defer u.mu.Unlock()
	return uartSnap{u.ier, u.lcr, u.mcr, u.scr, u.dll, u.dlm, u.lsrErr, u.msr,
		u.fifoOn, u.thrPending && u.ier&ierETBEI != 0, u.trigger, u.rxHead, u.rxN, u.rx, u.rxBreak}
}

// checkFastState holds the exit fast path to FastState's word: where it
// says an LSR read or a THR write may be answered without the model, doing
// it through the model must give the word's value (or send just the byte)
// and change nothing else, the interrupt line included.
func checkFastState(t *testing.T, r *uartRig) {
	t.Helper()
	w := atomic.LoadUint32(r.u.FastState())
	if w&UARTFastLSR != 0 {
		before, levels := snapUART(r.u), len(r.line.levels)
		if got := r.in(uartLSR); uint32(got) != w&0xff {
			t.Fatalf("LSR read %#x, the fast word says %#x", got, w&0xff)
		}
		if after := snapUART(r.u); after != before || len(r.line.levels) != levels {
			t.Fatalf("an LSR read the fast word allows changed the UART:\n%+v\n%+v", before.short(), after.short())
		}
	}
	if w&UARTFastTHR != 0 {
		before, levels, sent := snapUART(r.u), len(r.line.levels), r.out.Len()
		r.outb(uartTHR, 'Z')
		if got := r.out.Bytes()[sent:]; string(got) != "Z" {
			t.Fatalf("a THR write the fast word allows sent %q", got)
		}
		if after := snapUART(r.u); after != before || len(r.line.levels) != levels {
			t.Fatalf("a THR write the fast word allows changed the UART:\n%+v\n%+v", before.short(), after.short())
		}
	}
}

func (s uartSnap) short() string {
	return fmt.Sprintf("ier %#x lcr %#x mcr %#x lsrErr %#x msr %#x fifo %v thr %v rx %d@%d",
		s.ier, s.lcr, s.mcr, s.lsrErr, s.msr, s.fifoOn, s.thrPending, s.rxN, s.rxHead)
}

// TestUARTFastState: the word Linux's console write meets, and each
// condition that sends an access back to the model.
func TestUARTFastState(t *testing.T) {
	both := uint32(UARTFastLSR | UARTFastTHR)
	for _, tc := range []struct {
		name string
		do   func(r *uartRig)
		want uint32
	}{
		{"reset", func(r *uartRig) {}, both | lsrTHRE | lsrTEMT},
		{"console write", func(r *uartRig) {
			r.outb(uartLCR, 0x03)
			r.outb(uartMCR, mcrDTR|mcrRTS|mcrOUT2)
			r.outb(uartIER, 0)
		}, both | lsrTHRE | lsrTEMT},
		{"data waiting", func(r *uartRig) { r.u.Receive([]byte("a")) }, both | lsrTHRE | lsrTEMT | lsrDR},
		{"data read", func(r *uartRig) { r.u.Receive([]byte("a")); r.in(uartRBR) }, both | lsrTHRE | lsrTEMT},
		{"THRE interrupt on", func(r *uartRig) { r.outb(uartIER, ierETBEI) }, UARTFastLSR | lsrTHRE | lsrTEMT},
		{"divisor latch", func(r *uartRig) { r.outb(uartLCR, 0x83) }, UARTFastLSR | lsrTHRE | lsrTEMT},
		{"loopback", func(r *uartRig) { r.outb(uartMCR, mcrLOOP) }, UARTFastLSR | lsrTHRE | lsrTEMT},
		{"overrun latched", func(r *uartRig) { r.u.Receive(make([]byte, UARTInputBuffer+1)) }, UARTFastTHR},
		{"overrun read", func(r *uartRig) { r.u.Receive(make([]byte, UARTInputBuffer+1)); r.in(uartLSR) },
			both | lsrTHRE | lsrTEMT | lsrDR},
		{"break at the head", func(r *uartRig) { r.u.Break([]byte("b")) }, UARTFastTHR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newUARTRig()
			tc.do(r)
			if got := atomic.LoadUint32(r.u.FastState()); got != tc.want {
				t.Errorf("fast word %#x, want %#x", got, tc.want)
			}
			checkFastState(t, r)
		})
	}
}

func checkUART(t *testing.T, r *uartRig) {
	r.u.mu.Lock()
	id, want, n := r.u.intIDLocked(), r.u.levelLocked(), r.u.rxN
	r.u.mu.Unlock()
	switch id {
	case iirRLS, iirRDA, iirCTI, iirTHRE, iirMS, iirNoInt:
	default:
		t.Fatalf("interrupt ID %#x", id)
	}
	if n < 0 || n > UARTInputBuffer {
		t.Fatalf("rxN %d", n)
	}
	if high, _ := r.line.state(); high != want {
		t.Fatalf("line %v, state says %v", high, want)
	}
}

// A byte that arrives between the guest's read that empties the FIFO and
// that read's level update must still make an edge: the line was low for
// an instant (the guest saw no data), and an edge-triggered pin that never
// sees it drop never sends the interrupt for the new byte.
func TestUARTEdgeAfterDrainRace(t *testing.T) {
	r := newUARTRig()
	r.outb(uartIER, ierERBFI)
	r.outb(uartMCR, mcrOUT2)
	r.u.Receive([]byte("a"))
	if high, rises := r.line.state(); !high || rises != 1 {
		t.Fatalf("after one byte: high %v, %d rises", high, rises)
	}
	// The guest's RBR read, without the sync that Read does after it...
	if b := r.u.readReg(uartRBR); b != 'a' {
		t.Fatalf("read %q", b)
	}
	// ...the console's byte, with its sync...
	r.u.Receive([]byte("\r"))
	// ...then the guest's sync.
	r.u.sync()
	if high, rises := r.line.state(); !high || rises != 2 {
		t.Errorf("high %v, %d rises; want the line high with a second rising edge", high, rises)
	}
	if got := r.in(uartRBR); got != '\r' {
		t.Errorf("read %q, want CR", got)
	}
}
