package pc

import "sync"

// The PC's small legacy ports that a stock kernel touches and expects to
// be harmless: POST codes, port 92, PCI configuration mechanism #1 (with
// its reset control register) answering that there is no device, and the
// 8259's edge/level control registers, and the keyboard controller's reset
// command. Register and bit names follow the
// Intel ICH9 datasheet (13.7 "Processor Interface Registers", 13.1 "PCI
// to LPC bridge", 13.4 "8259 Interrupt Controller") and the PCI Local Bus
// Specification 3.0, 3.2.2.3.2 (CONFIG_ADDRESS).

// Port numbers.
const (
	POSTPort    = 0x80
	Port92Port  = 0x92
	PCIConfPort = 0xcf8 // CONFIG_ADDRESS; RST_CNT at 0xcf9, CONFIG_DATA at 0xcfc
	ELCRPort    = 0x4d0
)

// LegacyPorts is the set; reset is called (nil: ignored) when the guest
// asks for a reset through port 92, RST_CNT or the keyboard controller.
type LegacyPorts struct {
	POST   *POST
	Port92 *Port92
	PCI    *PCIConf
	ELCR   *ELCR
	KBC    *KBCReset
}

// NewLegacyPorts returns the set with the reset callback.
func NewLegacyPorts(reset func()) *LegacyPorts {
	return &LegacyPorts{POST: &POST{}, Port92: &Port92{reset: reset}, PCI: &PCIConf{reset: reset}, ELCR: &ELCR{},
		KBC: &KBCReset{reset: reset}}
}

// Ranges is the set's claim.
func (l *LegacyPorts) Ranges() []PortRange {
	return []PortRange{
		{Base: POSTPort, Size: 1, Name: "post", Dev: l.POST},
		{Base: Port92Port, Size: 1, Name: "port92", Dev: l.Port92},
		{Base: PCIConfPort, Size: 8, Name: "pci_conf1", Dev: l.PCI},
		{Base: ELCRPort, Size: 2, Name: "elcr", Dev: l.ELCR},
		{Base: KBCPort, Size: 1, Name: "kbc-reset", Dev: l.KBC},
	}
}

// KBCPort is the 8042 keyboard controller's status and command port.
const KBCPort = 0x64

// KBCReset is the one thing of the 8042 keyboard controller that a guest
// without a keyboard uses: command 0xFE pulses the reset line, Linux's
// usual way to reboot (and, with panic=N, to end a panic). The status
// reads "input buffer empty, self-test passed" so that the wait before a
// command ends at once; there is no data port, and Linux finds no PS/2
// controller (the ACPI tables list none).
type KBCReset struct{ reset func() }

const (
	kbcStatusSys   = 1 << 2 // system flag: self-test passed
	kbcStatusUnInh = 1 << 4 // keyboard not inhibited
	kbcPulseReset  = 0xfe   // pulse output port bit 0, the CPU reset line
)

func (k *KBCReset) Read(off uint64, size int) uint64 {
	return readBytes(off, size, 1, func(uint64) uint8 { return kbcStatusSys | kbcStatusUnInh })
}

func (k *KBCReset) Write(off uint64, size int, val uint64) {
	if off == 0 && uint8(val) == kbcPulseReset && k.reset != nil {
		k.reset()
	}
}

// POST is port 0x80, where firmware writes progress codes and Linux writes
// as an I/O delay (io_delay=0x80, the default for every *_p port access).
// Writes are counted and the last code kept; reads return all ones.
type POST struct {
	mu     sync.Mutex
	writes uint64
	last   uint8
}

// Codes is how many writes arrived and the last code written.
func (p *POST) Codes() (writes uint64, last uint8) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes, p.last
}

func (p *POST) Read(off uint64, size int) uint64 { return readBytes(off, size, 0, nil) }

func (p *POST) Write(off uint64, size int, val uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes++
	p.last = uint8(val)
}

// Port92 is "port 92" (the PS/2 system control port A): ALT_A20_GATE (bit
// 1) always reads set, since guest memory never wraps at 1 MiB, and
// INIT_NOW (bit 0) set resets the machine.
type Port92 struct{ reset func() }

const (
	port92InitNow = 1 << 0
	port92A20     = 1 << 1
)

func (p *Port92) Read(off uint64, size int) uint64 {
	return readBytes(off, size, 1, func(uint64) uint8 { return port92A20 })
}

func (p *Port92) Write(off uint64, size int, val uint64) {
	if off == 0 && val&port92InitNow != 0 && p.reset != nil {
		p.reset() // INIT_NOW reads 0, so any write of 1 is its rising edge
	}
}

// PCIConf is configuration mechanism #1 on a machine with no PCI devices:
// CONFIG_ADDRESS (32-bit at 0xcf8) holds what is written, CONFIG_DATA
// (0xcfc-0xcff, any size) reads all ones (vendor ID 0xffff: no function)
// and drops writes. Linux's pci_check_type1 finds the mechanism, scans
// bus 0, and concludes there is nothing there. RST_CNT (byte 0xcf9)
// resets the machine when RST_CPU is set (Linux's reboot=pci).
type PCIConf struct {
	reset func()

	mu     sync.Mutex
	addr   uint32
	rstCnt uint8
}

const (
	pciAddrWritable = 0x80fffffc // enable, bus, device, function, register
	pciRstCnt       = 1          // offset of RST_CNT
	rstCntRstCPU    = 1 << 2
	rstCntWritable  = 0x0a // SYS_RST, FULL_RST
)

func (p *PCIConf) Read(off uint64, size int) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case off == 0 && size == 4:
		return uint64(p.addr)
	case off == pciRstCnt && size == 1:
		return uint64(p.rstCnt)
	}
	return 1<<(8*size) - 1
}

func (p *PCIConf) Write(off uint64, size int, val uint64) {
	p.mu.Lock()
	reset := false
	switch {
	case off == 0 && size == 4:
		p.addr = uint32(val) & pciAddrWritable
	case off == pciRstCnt && size == 1:
		p.rstCnt = uint8(val) & rstCntWritable
		reset = val&rstCntRstCPU != 0
	}
	p.mu.Unlock()
	if reset && p.reset != nil {
		p.reset()
	}
}

// Address is CONFIG_ADDRESS as last written.
func (p *PCIConf) Address() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// ELCR is the 8259s' edge/level control registers ELCR1 (0x4d0, IRQ 0-7)
// and ELCR2 (0x4d1, IRQ 8-15): plain storage, since no 8259 is modelled;
// IRQ 0, 1, 2, 8 and 13 are always edge.
type ELCR struct {
	mu  sync.Mutex
	reg [2]uint8
}

var elcrWritable = [2]uint8{0xf8, 0xde}

func (e *ELCR) Read(off uint64, size int) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return readBytes(off, size, 2, func(o uint64) uint8 { return e.reg[o] })
}

func (e *ELCR) Write(off uint64, size int, val uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	writeBytes(off, size, val, 2, func(o uint64, b uint8) { e.reg[o] = b & elcrWritable[o] })
}

// Level says whether ISA IRQ irq (0-15) is set level-triggered.
func (e *ELCR) Level(irq int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return irq >= 0 && irq < 16 && e.reg[irq/8]&(1<<(irq%8)) != 0
}
