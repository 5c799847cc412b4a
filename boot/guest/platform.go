package guest

// The PC platform a Linux guest is told about. The ACPI tables (acpi.go)
// promise these addresses, ports and interrupts; the device models in hv/pc
// must answer at the same ones, so both take them from here.
//
// Interrupt controllers (ACPI 6.5 §5.2.12; Intel 82093AA I/O APIC datasheet):
// one local APIC per vCPU with APIC ids 0..n-1 at the architectural base,
// one I/O APIC with 24 inputs (GSIs 0-23), no 8259 PIC (the MADT leaves
// PCAT_COMPAT clear). ISA IRQs map to the GSI of the same number except the
// PIT's IRQ0, which goes to GSI 2 as on every PC since the IOAPIC came.
//
// ACPI fixed hardware (ACPI 6.5 §4.8): the PM1a event and control blocks and
// the PM timer, in one I/O block at 0x600 as QEMU's ICH9 (q35) has them. No
// SMI command port: the platform is in ACPI mode from reset, so the OS never
// hands over from firmware. The SCI is level-triggered, active high on GSI 9.
const (
	LAPICBase    = 0xFEE00000 // local APIC MMIO (xAPIC); x2APIC uses MSRs
	IOAPICBase   = 0xFEC00000 // I/O APIC MMIO (IOREGSEL at +0, IOWIN at +0x10)
	IOAPICID     = 0          // its APIC id; vCPUs take 0..n-1 from the local APIC id space, which is separate
	IOAPICPins   = 24         // GSIs 0..23
	IOAPICGSI    = 0          // GSI base
	PITIRQ       = 0          // ISA IRQ of the PIT (8254) channel 0 ...
	PITGSI       = 2          // ... and the I/O APIC input it arrives on
	SCIGSI       = 9          // SCI_INT: the ACPI interrupt (ISA IRQ 9, level, active high)
	PMBase       = 0x600      // first port of the ACPI fixed-hardware block
	PM1aEvtPort  = PMBase     // PM1a_EVT_BLK: PM1 status (2 bytes) then PM1 enable (2 bytes)
	PM1aEvtLen   = 4
	PM1aCntPort  = PMBase + 4 // PM1a_CNT_BLK: PM1 control, 2 bytes; SCI_EN (bit 0) reads 1
	PM1aCntLen   = 2
	PMTimerPort  = PMBase + 8 // PM_TMR_BLK: 32-bit counter at 3.579545 MHz (TMR_VAL_EXT)
	PMTimerLen   = 4
	PMTimerHz    = 3579545
	SLPTypS5     = 5       // SLP_TYP the DSDT's \_S5 gives: PM1 control write (5<<10 | SLP_EN) = power off
	PM1CntSLPEN  = 1 << 13 // SLP_EN in PM1 control
	PM1CntSCIEN  = 1 << 0  // SCI_EN in PM1 control
	RTCCentury   = 0x32    // CMOS register the FADT names as CENTURY
	ACPIBase     = 0xE0000 // where the tables go: the BIOS area, which an RSDP scan covers
	ACPIAreaSize = 0x20000 // [ACPIBase, 1 MiB): reserved in the memory map
)
