package pc

import (
	"sync"
	"sync/atomic"
)

// A 16550A UART as the PC's COM ports have it (National Semiconductor
// PC16550D datasheet, "UART with FIFOs"; register and bit names as there).
// Transmission is instant: a byte written to THR goes to the output func at
// once, so THR and the transmitter are always empty again by the next
// access. Received bytes wait in a bounded input buffer in front of the
// 16-byte RX FIFO; the divisor latch and line control are kept but do not
// pace anything.

// COM1's conventional resources.
const (
	COM1Port = 0x3f8
	COM1IRQ  = 4
)

// Register offsets from the base port; DLAB is LCR bit 7.
const (
	uartRBR  = 0 // receiver buffer (read, DLAB=0)
	uartTHR  = 0 // transmitter holding (write, DLAB=0)
	uartDLL  = 0 // divisor latch LSB (DLAB=1)
	uartIER  = 1 // interrupt enable (DLAB=0)
	uartDLM  = 1 // divisor latch MSB (DLAB=1)
	uartIIR  = 2 // interrupt identification (read)
	uartFCR  = 2 // FIFO control (write)
	uartLCR  = 3
	uartMCR  = 4
	uartLSR  = 5
	uartMSR  = 6
	uartSCR  = 7
	uartRegs = 8
)

// IER bits.
const (
	ierERBFI = 1 << 0 // received data available
	ierETBEI = 1 << 1 // THR empty
	ierELSI  = 1 << 2 // receiver line status
	ierEDSSI = 1 << 3 // modem status
)

// IIR values, highest priority first, and the FIFOs-enabled bits.
const (
	iirRLS   = 0x06 // receiver line status
	iirRDA   = 0x04 // received data available
	iirCTI   = 0x0c // character timeout
	iirTHRE  = 0x02 // THR empty
	iirMS    = 0x00 // modem status
	iirNoInt = 0x01 // no interrupt pending
	iirFIFOs = 0xc0
)

// FCR bits.
const (
	fcrEnable  = 1 << 0
	fcrRXReset = 1 << 1
)

// LCR, MCR, LSR and MSR bits.
const (
	lcrDLAB = 1 << 7

	mcrDTR  = 1 << 0
	mcrRTS  = 1 << 1
	mcrOUT1 = 1 << 2
	mcrOUT2 = 1 << 3 // gates the IRQ on PCs
	mcrLOOP = 1 << 4

	lsrDR     = 1 << 0
	lsrOE     = 1 << 1
	lsrErrors = 0x1e // OE, PE, FE, BI
	lsrBI     = 1 << 4
	lsrTHRE   = 1 << 5
	lsrTEMT   = 1 << 6

	msDCTS = 1 << 0
	msDDSR = 1 << 1
	msTERI = 1 << 2
	msDDCD = 1 << 3
	msCTS  = 1 << 4
	msDSR  = 1 << 5
	msRI   = 1 << 6
	msDCD  = 1 << 7
)

// UARTInputBuffer bounds the bytes waiting to be received (FIFO included);
// more are dropped and counted, never blocking the console.
const UARTInputBuffer = 4096

const uartFIFODepth = 16

// rxTrigger is the FCR receiver trigger level by FCR bits 7-6.
var rxTrigger = [4]int{1, 4, 8, 14}

// UART is one 16550A. Lock order: irqMu before mu.
type UART struct {
	out func(b byte)
	irq IRQ

	irqMu sync.Mutex // serialises level changes so the last one matches the state
	line  bool       // level last given to irq; guarded by irqMu

	mu         sync.Mutex
	ier, lcr   uint8
	mcr, scr   uint8
	dll, dlm   uint8
	fifoOn     bool
	trigger    int   // RX FIFO trigger level
	lsrErr     uint8 // OE etc., latched until LSR is read
	msr        uint8 // modem input lines (bits 7-4) and deltas (3-0)
	thrPending bool  // the THRE interrupt condition
	rx         [UARTInputBuffer]byte
	rxBreak    [UARTInputBuffer]bool // the byte at this slot is a break's
	rxHead     int
	rxN        int // bytes waiting; the first min(rxN, depth) are the FIFO
	dropped    uint64
	lowSeen    bool // the interrupt output was low after a change since the last sync

	// fast is what the exit fast path may answer without the model
	// (FastState); written under mu, read by any CPU.
	fast uint32
}

// Bits of FastState's word, above the LSR value in bits 7-0.
const (
	// UARTFastLSR: reading LSR would return bits 7-0 and change nothing.
	UARTFastLSR = 1 << 8
	// UARTFastTHR: writing THR would only send the byte (no interrupt,
	// loopback or divisor latch in the way).
	UARTFastTHR = 1 << 9
)

// FastState is a word the hypervisor's exit fast path reads (atomically,
// any CPU) to answer an LSR read or a THR write by itself, exactly as the
// model would: LSR's value with UARTFastLSR when the read has no side
// effect, UARTFastTHR when a write to THR would only pass the byte to out.
// Linux's 8250 console writes a byte as an LSR read and a THR write with
// IER cleared; each is an exit, and these are most of a booting kernel's.
// The word is kept current by every change of the model's state; a byte
// arriving from the console while a vCPU runs is seen at its next LSR
// read, as if it came a moment later.
func (u *UART) FastState() *uint32 { return &u.fast }

// publishLocked recomputes FastState's word after a change.
func (u *UART) publishLocked() {
	var w uint32
	lsr := uint32(lsrTHRE | lsrTEMT)
	if u.rxN > 0 {
		lsr |= lsrDR
	}
	if u.lsrErr == 0 && (u.rxN == 0 || !u.rxBreak[u.rxHead]) {
		w |= UARTFastLSR | lsr
	}
	if u.lcr&lcrDLAB == 0 && u.mcr&mcrLOOP == 0 && u.ier&ierETBEI == 0 {
		w |= UARTFastTHR
	}
	atomic.StoreUint32(&u.fast, w)
}

// NewUART returns a UART whose transmitted bytes go to out and whose
// interrupt output drives irq. Its modem inputs show a connected null
// modem (CTS, DSR, DCD).
func NewUART(out func(b byte), irq IRQ) *UART {
	if irq == nil {
		irq = NoIRQ
	}
	u := &UART{out: out, irq: irq, trigger: 1, msr: msCTS | msDSR | msDCD}
	u.publishLocked()
	return u
}

// Ranges is the UART's claim at base (COM1Port for COM1).
func (u *UART) Ranges(base uint16, name string) []PortRange {
	return []PortRange{{Base: base, Size: uartRegs, Name: name, Dev: u}}
}

// Receive queues bytes from the console as received data and returns how
// many fit; the rest are dropped, counted, and flagged as an overrun.
func (u *UART) Receive(p []byte) int {
	u.mu.Lock()
	n := u.receiveLocked(p)
	u.publishLocked()
	u.mu.Unlock()
	u.sync()
	return n
}

// Dropped is how many received bytes were lost to a full input buffer.
func (u *UART) Dropped() uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.dropped
}

func (u *UART) receiveLocked(p []byte) int {
	n := 0
	for _, b := range p {
		if u.queueLocked(b, false) {
			n++
		}
	}
	return n
}

// queueLocked puts one received character behind the others: a byte, or
// a break (a zero character with BI, as the datasheet has it).
func (u *UART) queueLocked(b byte, brk bool) bool {
	if u.rxN == len(u.rx) {
		u.dropped++
		u.lsrErr |= lsrOE
		return false
	}
	i := (u.rxHead + u.rxN) % len(u.rx)
	u.rx[i], u.rxBreak[i] = b, brk
	u.rxN++
	return true
}

// Break receives a break condition, then the bytes in p: Linux's 8250
// driver takes a break followed by a key as a magic SysRq request.
func (u *UART) Break(p []byte) int {
	u.mu.Lock()
	n := 0
	if u.queueLocked(0, true) {
		n = u.receiveLocked(p)
	}
	u.publishLocked()
	u.mu.Unlock()
	u.sync()
	return n
}

// Read implements Device.
func (u *UART) Read(off uint64, size int) uint64 {
	v := readBytes(off, size, uartRegs, u.readReg)
	u.sync()
	return v
}

// Write implements Device.
func (u *UART) Write(off uint64, size int, val uint64) {
	writeBytes(off, size, val, uartRegs, u.writeReg)
}

func (u *UART) readReg(off uint64) uint8 {
	u.mu.Lock()
	defer u.mu.Unlock()
	defer u.publishLocked()
	defer u.noteLevelLocked() // after the read's effect, before the unlock
	dlab := u.lcr&lcrDLAB != 0
	switch off {
	case uartRBR:
		if dlab {
			return u.dll
		}
		return u.popLocked()
	case uartIER:
		if dlab {
			return u.dlm
		}
		return u.ier
	case uartIIR:
		return u.readIIRLocked()
	case uartLCR:
		return u.lcr
	case uartMCR:
		return u.mcr
	case uartLSR:
		return u.readLSRLocked()
	case uartMSR:
		v := u.msr
		u.msr &^= 0x0f
		return v
	default:
		return u.scr
	}
}

func (u *UART) writeReg(off uint64, v uint8) {
	u.mu.Lock()
	if off == uartTHR && u.lcr&lcrDLAB == 0 {
		u.mu.Unlock()
		u.transmit(v)
		return
	}
	switch off {
	case uartDLL:
		u.dll = v
	case uartIER:
		if u.lcr&lcrDLAB != 0 {
			u.dlm = v
		} else {
			u.writeIERLocked(v)
		}
	case uartFCR:
		u.writeFCRLocked(v)
	case uartLCR:
		u.lcr = v
	case uartMCR:
		u.writeMCRLocked(v)
	case uartSCR:
		u.scr = v
	} // LSR and MSR writes are factory-test only: ignored
	u.noteLevelLocked()
	u.publishLocked()
	u.mu.Unlock()
	u.sync()
}

// transmit sends v. Writing THR clears the THRE interrupt; the byte leaves
// at once and THR is empty again, which sets it anew. The two steps are
// separate level updates so an edge-triggered pin sees the line drop and
// rise, as with a real transmitter.
func (u *UART) transmit(v uint8) {
	u.mu.Lock()
	u.thrPending = false
	loop := u.mcr&mcrLOOP != 0
	if loop {
		u.receiveLocked([]byte{v})
		u.publishLocked()
	}
	u.noteLevelLocked()
	u.mu.Unlock()
	u.sync()
	if !loop && u.out != nil {
		u.out(v)
	}
	u.mu.Lock()
	u.thrPending = true
	u.mu.Unlock()
	u.sync()
}

// writeIERLocked follows the 16550 behaviour Linux's 8250 driver tests at
// startup (and QEMU models): turning ETBEI on while THR is empty raises
// the THRE interrupt even if an IIR read had cleared it before.
func (u *UART) writeIERLocked(v uint8) {
	changed := (u.ier ^ v) & 0x0f
	u.ier = v & 0x0f
	if changed&ierETBEI != 0 {
		u.thrPending = u.ier&ierETBEI != 0
	}
}

// writeFCRLocked: the other FCR bits are written only with FIFO enable
// set; toggling FIFO enable clears the FIFOs.
func (u *UART) writeFCRLocked(v uint8) {
	on := v&fcrEnable != 0
	if on != u.fifoOn || (on && v&fcrRXReset != 0) {
		u.clearFIFOLocked()
	}
	u.fifoOn = on
	if on {
		u.trigger = rxTrigger[v>>6]
	}
}

// clearFIFOLocked drops what is in the RX FIFO; bytes still waiting
// behind it move up.
func (u *UART) clearFIFOLocked() {
	n := min(u.rxN, u.depthLocked())
	u.rxHead = (u.rxHead + n) % len(u.rx)
	u.rxN -= n
}

func (u *UART) depthLocked() int {
	if u.fifoOn {
		return uartFIFODepth
	}
	return 1
}

// writeMCRLocked: in loopback the modem outputs feed the modem inputs
// (RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD); Linux's autoconfig probe checks
// exactly this. Changes set the delta bits, RI on its trailing edge.
func (u *UART) writeMCRLocked(v uint8) {
	u.mcr = v & 0x1f
	lines := uint8(msCTS | msDSR | msDCD)
	if u.mcr&mcrLOOP != 0 {
		lines = (u.mcr&mcrRTS)<<3 | (u.mcr&mcrDTR)<<5 | (u.mcr&mcrOUT1)<<4 | (u.mcr&mcrOUT2)<<4
	}
	old := u.msr
	diff := old ^ lines
	delta := (diff & (msCTS | msDSR | msDCD)) >> 4
	if old&msRI != 0 && lines&msRI == 0 {
		delta |= msTERI
	}
	u.msr = lines | (old & 0x0f) | delta
}

func (u *UART) popLocked() uint8 {
	if u.rxN == 0 {
		return 0
	}
	b := u.rx[u.rxHead]
	u.rxBreak[u.rxHead] = false
	u.rxHead = (u.rxHead + 1) % len(u.rx)
	u.rxN--
	return b
}

func (u *UART) readLSRLocked() uint8 {
	v := uint8(lsrTHRE|lsrTEMT) | u.lsrErr
	if u.rxN > 0 {
		v |= lsrDR
		if u.rxBreak[u.rxHead] {
			v |= lsrBI // of the character at the FIFO's head; a read clears it
			u.rxBreak[u.rxHead] = false
		}
	}
	u.lsrErr = 0
	return v
}

// readIIRLocked reports the highest-priority pending interrupt; reading
// it clears the THRE interrupt when that is what it reports.
func (u *UART) readIIRLocked() uint8 {
	id := u.intIDLocked()
	if id == iirTHRE {
		u.thrPending = false
	}
	if u.fifoOn {
		id |= iirFIFOs
	}
	return id
}

// intIDLocked is the IIR interrupt ID by the datasheet's priorities. The
// character timeout is reported at once for a FIFO below its trigger
// level: nothing here measures four character times, and Linux reads
// the FIFO the same way for both.
func (u *UART) intIDLocked() uint8 {
	switch {
	case u.ier&ierELSI != 0 && (u.lsrErr != 0 || u.rxN > 0 && u.rxBreak[u.rxHead]):
		return iirRLS
	case u.ier&ierERBFI != 0 && u.rxN > 0:
		if u.fifoOn && min(u.rxN, uartFIFODepth) < u.trigger {
			return iirCTI
		}
		return iirRDA
	case u.ier&ierETBEI != 0 && u.thrPending:
		return iirTHRE
	case u.ier&ierEDSSI != 0 && u.msr&0x0f != 0:
		return iirMS
	}
	return iirNoInt
}

// levelLocked is the IRQ line: an interrupt pending, gated by OUT2 as on
// PCs; in loopback OUT2 is looped back instead of driving the pin.
func (u *UART) levelLocked() bool {
	return u.mcr&(mcrOUT2|mcrLOOP) == mcrOUT2 && u.intIDLocked() != iirNoInt
}

// noteLevelLocked records that the output went low with the change just
// made, for sync.
func (u *UART) noteLevelLocked() {
	if !u.levelLocked() {
		u.lowSeen = true
	}
}

// sync brings the IRQ line to the current state. It runs after the state
// change with mu released (IRQ callbacks may reach other devices), under
// irqMu so that racing callers cannot leave a stale level behind.
//
// A line that went low and is high again by the time sync looks (the guest
// drained the FIFO, or read IIR and saw no interrupt, and a byte came from
// the console before the guest's sync ran) is pulsed: on a real UART the
// pin dropped and rose, and an edge-triggered I/O APIC pin, as ISA IRQ 4
// is, needs that edge, or the interrupt for the new byte is never sent and
// the guest's driver, which saw none pending, waits for it forever.
func (u *UART) sync() {
	u.irqMu.Lock()
	defer u.irqMu.Unlock()
	u.mu.Lock()
	want, low := u.levelLocked(), u.lowSeen
	u.lowSeen = false
	u.mu.Unlock()
	switch {
	case u.line && want && low:
		u.irq.SetLevel(false)
		u.irq.SetLevel(true)
	case want != u.line:
		u.line = want
		u.irq.SetLevel(want)
	}
}
