//go:build !groveguest

package kernel

import (
	"sync"
	"sync/atomic"

	"github.com/usbarmory/tamago/soc/intel/ioapic"

	"grove/errno"
)

// Routing a legacy device's interrupt to a wait vector (irqwait.go) through
// the IOAPIC (82093AA datasheet, 3.2.4 "I/O Redirection Table Registers";
// register names from tamago's driver, whose EnableInterrupt always targets
// APIC id 0 and never sets polarity, so the entry is written here). The
// MADT (acpi_boot.go) says which IOAPIC input an ISA IRQ reaches and, in an
// Interrupt Source Override, with which polarity and trigger.

// Redirection entry bits (low dword; the destination is the high dword's
// top byte).
const (
	redtblPolarityLow = 1 << 13
	redtblLevel       = 1 << 15
	redtblDestShift   = 24
)

// MPS INTI flags of an override (ACPI 6.5 table 5.50): polarity bits 1:0,
// trigger bits 3:2, 0 = as the bus says (ISA: active high, edge).
const (
	intiPolarityLow = 0b11
	intiTriggerMask = 0b1100
	intiLevel       = 0b1100
)

var ioapicMu sync.Mutex // IOREGSEL and IOWIN are a pair: one user at a time

// RouteISAIRQ delivers ISA interrupt irq (3 is COM2 on every PC) to the
// boot CPU as wait vector vec, edge-triggered: the device's driver must
// leave its interrupt condition cleared before waiting again, or the line
// stays high and no new edge comes. A level-triggered override is refused
// (EINVAL): its line would interrupt again at every EOI until the driver,
// a thread that cannot run meanwhile, quiets the device. ENODEV when the
// MADT names no IOAPIC for it (or this is no Grove boot). Thread context.
func RouteISAIRQ(irq, vec uint8) error {
	if !booted || !isWaitVector(uint64(vec)) {
		return errno.EINVAL
	}
	gsi, flags := uint32(irq), uint16(0)
	for _, o := range madt.Overrides[:madt.NumOverrides] {
		if o.Bus == 0 && o.Source == irq {
			gsi, flags = o.GSI, o.Flags
		}
	}
	if flags&intiTriggerMask == intiLevel {
		return errno.EINVAL
	}
	low := uint32(vec)
	if flags&intiPolarityLow == intiPolarityLow {
		low |= redtblPolarityLow
	}
	for _, a := range madt.IOAPICs[:madt.NumIOAPICs] {
		if gsi >= a.GSIBase && routeOn(uintptr(a.Addr), gsi-a.GSIBase, low) {
			return nil
		}
	}
	return errno.ENODEV
}

// routeOn writes entry pin of the IOAPIC at base, unmasked, to the boot
// CPU, if the IOAPIC has that pin. The destination goes first, so the entry
// is never live with a stale one. Thread context.
func routeOn(base uintptr, pin, low uint32) bool {
	ioapicMu.Lock()
	defer ioapicMu.Unlock()
	if pin >= ioapicRead(base, ioapic.IOAPICVER)>>ioapic.VER_ENTRIES&0xff+1 {
		return false
	}
	reg := uint32(ioapic.IOAPICREDTBLn) + 2*pin
	ioapicWrite(base, reg+1, cpus[0].apicID<<redtblDestShift)
	ioapicWrite(base, reg, low&^(1<<ioapic.REDTBL_MASK))
	return true
}

// Thread context, ioapicMu held.
func ioapicRead(base uintptr, reg uint32) uint32 {
	atomic.StoreUint32(ptrAt[uint32](base+ioapic.IOREGSEL), reg)
	return atomic.LoadUint32(ptrAt[uint32](base + ioapic.IOWIN))
}

// Thread context, ioapicMu held.
func ioapicWrite(base uintptr, reg, v uint32) {
	atomic.StoreUint32(ptrAt[uint32](base+ioapic.IOREGSEL), reg)
	atomic.StoreUint32(ptrAt[uint32](base+ioapic.IOWIN), v)
}
