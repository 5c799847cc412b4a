//go:build !groveguest

package kernel

import (
	"sync/atomic"

	"github.com/usbarmory/tamago/amd64/lapic"
	"github.com/usbarmory/tamago/soc/intel/uart"

	"grove/x86"
)

// The bare-metal platform: COM1 through tamago's 16550 driver, the LAPIC
// timer (tamago's driver, plus the count registers it lacks) calibrated
// against the PIT, legacy PICs masked, power-off through isa-debug-exit.

const (
	isGuest   = false
	minMemory = 64 << 20 // below this, refuse to boot

	pitHz       = 1193182
	calibrateMS = 20

	// xAPIC registers (AMD APM vol. 2, 16.3; Intel SDM vol. 3, 11.5.4).
	lapicTimerInit    = 0x380
	lapicTimerCurrent = 0x390
	lapicTimerDivide  = 0x3e0
	lapicDivideBy1    = 0b1011
)

var (
	// tamago's Init sets no line parameters, so hwConsoleInit programs
	// 115200 8N1 first (real boards need it; QEMU ignores it).
	com1      = uart.UART{Index: 1, Base: 0x3f8}
	apic      lapic.LAPIC
	lapicBase uintptr
)

// Boot path.
func hwConsoleInit() {
	const base = 0x3f8
	outb(base+1, 0x00) // IER: no interrupts
	outb(base+3, 0x80) // LCR: DLAB
	outb(base+0, 0x01) // DLL: 115200 baud
	outb(base+1, 0x00) // DLM
	outb(base+3, 0x03) // LCR: 8N1
	outb(base+2, 0xc7) // FCR: FIFO on, cleared, 14-byte threshold
	com1.Init()
}

// Kernel context.
func hwPut(b []byte) {
	for _, c := range b {
		if c == '\n' {
			com1.Tx('\r')
		}
		com1.Tx(c)
	}
}

// Kernel context.
func hwGet(b []byte) int {
	n := 0
	for n < len(b) {
		c, ok := com1.Rx()
		if !ok {
			break
		}
		if c == '\r' {
			c = '\n'
		}
		b[n] = c
		n++
	}
	return n
}

// hwInterruptsInit masks the legacy PICs (remapped off the exception vectors
// first) and enables the local APIC with a one-shot timer (TCG has no
// TSC-deadline mode: docs/qemu-tcg.md).
// Boot path.
func hwInterruptsInit() {
	for _, b := range [...][2]uint8{{0x20, 0x11}, {0xa0, 0x11}, {0x21, 0x20}, {0xa1, 0x28},
		{0x21, 4}, {0xa1, 2}, {0x21, 1}, {0xa1, 1}, {0x21, 0xff}, {0xa1, 0xff}} {
		outb(uint16(b[0]), b[1])
	}
	lapicBase = uintptr(rdmsr(x86.MSRAPICBase) &^ 0xfff)
	apic.Base = uint32(lapicBase)
	lapicWrite(0xf0, 0x100|vecSpurious) // SVR: enabled, spurious vector
	apic.Enable()
	apic.SetTimer(vecTimer, 0) // one-shot
}

// Kernel context.
func hwEOI() { apic.ClearInterrupt() }

// Kernel context.
func hwTimerArm(ns int64) {
	n := uint64(ns) * lapicHz / 1_000_000_000
	lapicWrite(lapicTimerInit, uint32(max(n, 1)))
}

// Kernel context.
func hwTimerStop() { lapicWrite(lapicTimerInit, 0) }

// Kernel context.
func lapicWrite(reg uintptr, v uint32) {
	atomic.StoreUint32(ptrAt[uint32](lapicBase+reg), v)
}

// Kernel context.
func lapicRead(reg uintptr) uint32 {
	return atomic.LoadUint32(ptrAt[uint32](lapicBase + reg))
}

// pitWait busy-waits ms milliseconds on PIT channel 2 (gate via port 0x61),
// the one clock whose rate is fixed by the platform.
// Boot path.
func pitWait(ms uint64) {
	count := pitHz * ms / 1000
	outb(0x61, inb(0x61)&^0x02|0x01) // gate on, speaker off
	outb(0x43, 0xb0)                 // channel 2, lo/hi byte, mode 0
	outb(0x42, uint8(count))
	outb(0x42, uint8(count>>8))
	for inb(0x61)&0x20 == 0 {
	}
}

// hwCalibrate measures the TSC and LAPIC timer rates against the PIT.
// Boot path.
func hwCalibrate() {
	lapicWrite(lapicTimerDivide, lapicDivideBy1)
	lapicWrite(lapicTimerInit, 0xffffffff)
	t0 := rdtsc()
	pitWait(calibrateMS)
	t1 := rdtsc()
	left := lapicRead(lapicTimerCurrent)
	lapicWrite(lapicTimerInit, 0)
	tscHz = (t1 - t0) * 1000 / calibrateMS
	lapicHz = uint64(0xffffffff-left) * 1000 / calibrateMS
	tscMul = (1_000_000_000 << 32) / tscHz
	tsc0 = t0
}

// Exit statuses through QEMU's isa-debug-exit device (port 0xf4): writing v
// makes QEMU exit with (v<<1)|1. Grove writes 0x10 for success (status 33)
// and 0x11 for any failure (35). On hardware the port does nothing, so a
// reset follows: the 0xcf9 reset register, the keyboard controller, and
// finally a triple fault.
const (
	debugExitPort = 0xf4
	ExitSuccess   = 0x10
	ExitFailure   = 0x11
)

var idtEmpty [2]uint64

// Kernel context.
func hwPowerOff(code int) {
	v := uint8(ExitSuccess)
	if code != 0 {
		v = ExitFailure
	}
	outb(debugExitPort, v)
	outb(0xcf9, 0x02)
	outb(0xcf9, 0x06)
	outb(0x64, 0xfe)
	lidt(uintptrOf(&idtEmpty)) // limit 0: the next interrupt triple-faults
}
