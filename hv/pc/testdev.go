package pc

import "sync"

// TestDev is the I/O-port part of QEMU's pc-testdev (hw/misc/pc-testdev.c),
// which QEMU's test kernels find beside isa-debug-exit: kvm-unit-tests'
// realmode test reads back what it writes to port 0xe0 in every width,
// eventinj writes to the page-flush port 0xe4, and ioapic raises ISA
// interrupt lines through ports 0x2000 + n.
//
//	0xe0-0xe3    a 32-bit register, any width, byte lanes by port
//	0xe4-0xe7    page flush: QEMU re-protects a host page, which a guest
//	             cannot observe, so writes are dropped; reads are zero
//	0x2000+n     n = 0..23: a byte write sets IRQ line n to (value != 0)
//
// Not modelled: the byte-wide view of the register at 0xe8-0xeb, which no
// test uses and which would cover Grove's debug console port 0xe9
// (hv/devices.go); and its 64 KiB of MMIO scratch memory at 0xff000000
// (the emulator test's), which would need every instruction that can
// touch memory to be emulated.
type TestDev struct {
	lines [IOAPICPins]IRQ

	mu   sync.Mutex
	data uint32
}

// Test device ports.
const (
	TestDevDataPort  = 0xe0
	TestDevFlushPort = 0xe4
	TestDevIRQPort   = 0x2000
)

// NewTestDev returns the device with its IRQ lines: line(n) for n =
// 0..23, the I/O APIC's pins.
func NewTestDev(line func(n int) IRQ) *TestDev {
	t := &TestDev{}
	for n := range t.lines {
		t.lines[n] = line(n)
	}
	return t
}

// Ranges is the device's claim.
func (t *TestDev) Ranges() []PortRange {
	return []PortRange{
		{Base: TestDevDataPort, Size: 4, Name: "testdev", Dev: testDevData{t}},
		{Base: TestDevFlushPort, Size: 4, Name: "testdev_flush", Dev: testDevFlush{}},
		{Base: TestDevIRQPort, Size: IOAPICPins, Name: "testdev_irq", Dev: testDevIRQ{t}},
	}
}

// Data is the register's value.
func (t *TestDev) Data() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.data
}

type testDevData struct{ t *TestDev }

func (d testDevData) Read(off uint64, size int) uint64 {
	d.t.mu.Lock()
	defer d.t.mu.Unlock()
	return readBytes(off, size, 4, func(o uint64) uint8 { return uint8(d.t.data >> (8 * o)) })
}

func (d testDevData) Write(off uint64, size int, val uint64) {
	d.t.mu.Lock()
	defer d.t.mu.Unlock()
	writeBytes(off, size, val, 4, func(o uint64, b uint8) {
		d.t.data = d.t.data&^(0xff<<(8*o)) | uint32(b)<<(8*o)
	})
}

type testDevFlush struct{}

func (testDevFlush) Read(off uint64, size int) uint64       { return 0 }
func (testDevFlush) Write(off uint64, size int, val uint64) {}

type testDevIRQ struct{ t *TestDev }

func (testDevIRQ) Read(off uint64, size int) uint64 { return 0 }

func (d testDevIRQ) Write(off uint64, size int, val uint64) {
	if size == 1 && off < uint64(len(d.t.lines)) {
		d.t.lines[off].SetLevel(val&0xff != 0)
	}
}
