//go:build groveguest

package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/usbarmory/tamago/soc/intel/uart"

	"grove/ctl/ring"
	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// The host channel's transport: the machine's second UART (COM2), which
// the hypervisor gives to dom0. By default the agent binds its interrupt
// (VIRQSerial), which also passes its ports straight through, and sleeps in
// kernel.WaitIRQ between requests; with the command-line word "poll" it
// keeps the old way, for comparison: every access exits to the hypervisor,
// and an idle agent looks for input every 5 ms.

var com2 = &uart.UART{Index: 2, Base: 0x2f8}

// Vectors the hypervisor raises in the agent's kernel (kernel.WaitIRQ).
const (
	serialVec = kernel.WaitVectorBase     // VIRQSerial: COM2 interrupted
	eventVec  = kernel.WaitVectorBase + 1 // VIRQDomExc: a domain event is queued
)

// 16550 bits tamago's driver does not name (PC16550D datasheet, 8.6
// "Register Descriptions"); registers and LSR bits are its (uart.IER, ...).
const (
	ierRxData = 1 << 0      // ERBFI: received data available (and FIFO timeout)
	fcrEnable = 1 << 0      // FIFOs on
	fcrClear  = 1<<1 | 1<<2 // both FIFOs emptied
	fcrTrig14 = 3 << 6      // receive interrupt at 14 bytes (or a 4-character timeout)
	fcrTrig1  = 0 << 6      // receive interrupt at every byte
	lcrDLAB   = 1 << 7      // divisor latch access: THR/IER are DLL/DLM
	lcr8N1    = 3           // 8 data bits, no parity, 1 stop bit
	divisor   = 1           // 115200 baud, the 16550's fastest from its 1.8432 MHz clock
	fifoSize  = 16
	lsrDR     = 1 << uart.LSR_DR
	lsrTHRE   = 1 << uart.LSR_THRE // transmit holding register (FIFO) empty

	pollPeriod = 5 * time.Millisecond
)

// bindVIRQ binds virq to vector vec on vCPU 0 (event_op EventBindVIRQ).
func bindVIRQ(virq uint32, vec uint8) error {
	buf := make([]byte, abi.VIRQBindSize)
	abi.VIRQBind{VIRQ: virq, Vector: vec}.Encode(buf)
	kernel.Touch(buf)
	if r := kernel.Hypercall(abi.EventOp, abi.EventBindVIRQ, uintptr(gva(buf)), 0); r < 0 {
		return fmt.Errorf("binding VIRQ %d: %w", virq, errno.Errno(-r))
	}
	return nil
}

// openSerial readies COM2 before the host can reach the agent (a FIFO
// switched on drops what it held). Interrupt-driven unless poll or the
// binding fails; it says which.
func openSerial(poll bool) *serialReader {
	com2.Init()
	// 115200 baud: the firmware leaves COM2 as it found it, and QEMU
	// starts at 9600, whose four-character receive timeout is 4 ms, the
	// wait for a request shorter than the interrupt's 14 bytes (a ring's
	// one-byte doorbell); at 115200 it is 0.35 ms.
	kernel.PortOut8(com2.Base+uart.LCR, lcrDLAB)
	kernel.PortOut8(com2.Base+uart.THR, divisor) // DLL
	kernel.PortOut8(com2.Base+uart.IER, 0)       // DLM
	kernel.PortOut8(com2.Base+uart.LCR, lcr8N1)
	if poll {
		return &serialReader{poll: true}
	}
	if err := bindVIRQ(abi.VIRQSerial, serialVec); err != nil {
		fmt.Printf("agent: COM2 interrupt: %v; polling\n", err)
		return &serialReader{poll: true}
	}
	// Receive interrupts only: the driver clears them by reading, and the
	// line is edge-triggered (hv/abi/virq.go).
	kernel.PortOut8(com2.Base+uart.FCR, fcrEnable|fcrClear|fcrTrig14)
	kernel.PortOut8(com2.Base+uart.IER, ierRxData)
	return &serialReader{}
}

// serialReader reads what COM2 holds, waiting for its interrupt (with poll:
// sleeping, and the FIFOs off as before) while it holds nothing. midLine:
// the last byte read did not end a line, so the rest of it is on its way.
type serialReader struct {
	poll    bool
	midLine bool
	timing  bool      // serve prints each request's times
	lineAt  int64     // kernel.Nanotime when the current line's first bytes were read
	shm     *hostRing // the ring, whose doorbells come this way; nil: none
	trig1   bool      // the receive interrupt is at every byte (setTrigger)
}

// setTrigger sets the receive FIFO's interrupt level without emptying it:
// every byte while a ring's host sends only one-byte doorbells (else each
// would wait for the four-character timeout), 14 bytes while a host sends
// whole lines (QEMU hands the guest no more than the level at a time).
func (r *serialReader) setTrigger(every bool) {
	if r.poll || r.trig1 == every {
		return
	}
	r.trig1 = every
	fcr := uint8(fcrEnable | fcrTrig14)
	if every {
		fcr = fcrEnable | fcrTrig1
	}
	kernel.PortOut8(com2.Base+uart.FCR, fcr)
}

// lineSpin is how long a reader in the middle of a request watches the
// UART before it waits for the interrupt: the rest of a line comes within
// microseconds, and the UART interrupts only at 14 bytes or after four
// characters' time, by the emulated baud rate.
const lineSpin = 2 * time.Millisecond

func (r *serialReader) Read(p []byte) (int, error) {
	for {
		if n := r.withoutDoorbells(p[:drain(p)]); n > 0 {
			if !r.midLine && r.lineAt == 0 {
				r.lineAt = kernel.Nanotime()
			}
			r.midLine = p[n-1] != '\n'
			return n, nil
		}
		switch {
		case r.poll:
			time.Sleep(pollPeriod)
		case r.midLine && spinFor(lineSpin):
		default:
			// The FIFO is empty, so the line is low: the next byte makes
			// the edge, and one that came since the last wait was counted.
			if _, err := kernel.WaitIRQ(serialVec, 0); err != nil {
				return 0, err
			}
		}
	}
}

// withoutDoorbells takes the ring's Doorbell bytes out of p, passing each
// on, and returns how many bytes are left at its start.
func (r *serialReader) withoutDoorbells(p []byte) int {
	n := len(p)
	if r.shm != nil {
		var bells int
		if n, bells = ring.StripDoorbells(p); bells > 0 {
			r.shm.doorbell()
		}
	}
	if n > 0 {
		r.setTrigger(false) // a host speaking on the line itself
	}
	return n
}

// spinFor watches LSR for received data for up to d; false if none came.
func spinFor(d time.Duration) bool {
	for end := kernel.Nanotime() + int64(d); kernel.Nanotime() < end; {
		if kernel.PortIn8(com2.Base+uart.LSR)&lsrDR != 0 {
			return true
		}
	}
	return false
}

// serialWriter sends on COM2. Through the FIFO it waits for the FIFO to be
// empty (LSR THRE) once per 16 bytes rather than once per byte: each check
// is an emulated port access, and, while the ports still exit (poll),
// a trip to the hypervisor.
type serialWriter struct{ fifo bool }

// txMu keeps a ring's doorbell out of the middle of a serial line.
var txMu sync.Mutex

// ringDoorbell tells the host its ring has something.
func ringDoorbell() { serialWriter{fifo: true}.Write([]byte{ring.Doorbell}) }

func (w serialWriter) Write(b []byte) (int, error) {
	txMu.Lock()
	defer txMu.Unlock()
	burst := 1
	if w.fifo {
		burst = fifoSize
	}
	for i := 0; i < len(b); {
		for kernel.PortIn8(com2.Base+uart.LSR)&lsrTHRE == 0 {
		}
		for end := min(i+burst, len(b)); i < end; i++ {
			kernel.PortOut8(com2.Base+uart.THR, b[i])
		}
	}
	return len(b), nil
}

// drain reads received bytes into p until the FIFO is empty or p is full.
func drain(p []byte) int {
	n := 0
	for n < len(p) {
		c, ok := com2.Rx()
		if !ok {
			break
		}
		p[n] = c
		n++
	}
	return n
}
