package guest

import (
	"encoding/binary"
	"fmt"

	"grove/acpi"
)

// ACPI tables for a Linux guest (ACPI Specification 6.5, cited by section),
// describing the platform in platform.go. They sit in the BIOS area, which
// the memory map reserves, so the RSDP is where a scan of 0xE0000-0xFFFFF
// finds it as well as where boot_params.acpi_rsdp_addr points:
//
//	ACPIBase+0x000  FACS (§5.2.10), 64 bytes, 64-byte aligned
//	ACPIBase+0x040  DSDT (§5.2.11.1): \_S5 only
//	ACPIBase+0x080  RSDP (§5.2.5), XSDT, MADT, FADT, built by acpi.Builder
//
// The FADT is not hardware-reduced: Linux then keeps the PM timer and the
// legacy devices the hv/pc models provide, and an SCI on GSI 9.
const (
	facsOff    = 0x000
	facsLen    = 64
	dsdtOff    = 0x040
	builderOff = 0x080
)

// ACPILayout says where ACPITables put each table (guest-physical).
type ACPILayout struct {
	RSDP, XSDT, MADT, FADT, DSDT, FACS uint64
}

// ACPITables returns the tables for a domain with vcpus vCPUs, to be written
// at ACPIBase, and where each one is.
func ACPITables(vcpus int) ([]byte, ACPILayout, error) {
	if vcpus < 1 || vcpus > 255 {
		return nil, ACPILayout{}, fmt.Errorf("ACPI tables for %d vCPUs: want 1..255 (xAPIC ids are 8 bits)", vcpus)
	}
	lay := ACPILayout{FACS: ACPIBase + facsOff, DSDT: ACPIBase + dsdtOff}
	b := acpi.Builder{
		Base:      ACPIBase + builderOff,
		LAPICAddr: LAPICBase,
		IOAPICs:   []acpi.IOAPIC{{ID: IOAPICID, Addr: IOAPICBase, GSIBase: IOAPICGSI}},
		Overrides: []acpi.Override{
			{Source: PITIRQ, GSI: PITGSI, Flags: intiHigh | intiEdge},
			{Source: SCIGSI, GSI: SCIGSI, Flags: intiHigh | intiLevel},
		},
		ExtraTables: [][]byte{fadt(lay.FACS, lay.DSDT)},
	}
	for i := range vcpus {
		b.CPUs = append(b.CPUs, acpi.LocalAPIC{ID: uint32(i), UID: uint32(i), Flags: acpi.LAPICEnabled})
	}
	tables, bl, err := b.Build()
	if err != nil {
		return nil, ACPILayout{}, err
	}
	if builderOff+uint64(len(tables)) > ACPIAreaSize {
		return nil, ACPILayout{}, fmt.Errorf("ACPI tables are %d bytes, more than the %d-byte area", len(tables), ACPIAreaSize-builderOff)
	}
	lay.RSDP, lay.XSDT, lay.MADT, lay.FADT = bl.RSDP, bl.Root, bl.MADT, bl.Extra[0]
	out := make([]byte, builderOff+len(tables))
	copy(out[facsOff:], facs())
	copy(out[dsdtOff:], dsdt())
	copy(out[builderOff:], tables)
	return out, lay, nil
}

// MPS INTI flags of an interrupt source override (§5.2.12.5, table 5.50).
const (
	intiHigh  = 0b01
	intiEdge  = 0b01 << 2
	intiLevel = 0b11 << 2
)

// FADT (§5.2.9, table 5.9), revision 6.5: field offsets and flags.
const (
	fadtLen          = 276
	fadtRevision     = 6
	fadtMinor        = 5
	fadtFirmwareCtrl = 36
	fadtDSDT         = 40
	fadtSCIInt       = 46
	fadtPM1aEvtBlk   = 56
	fadtPM1aCntBlk   = 64
	fadtPMTmrBlk     = 76
	fadtPM1EvtLen    = 88
	fadtPM1CntLen    = 89
	fadtPMTmrLen     = 91
	fadtBootArch     = 109
	fadtFlags        = 112
	fadtMinorVersion = 131
	fadtXFirmwareCtl = 132
	fadtXDSDT        = 140
	fadtXPM1aEvtBlk  = 148
	fadtXPM1aCntBlk  = 172
	fadtXPMTmrBlk    = 208

	// Flags (table 5.10): WBINVD works, C1 (HLT) on every CPU, no fixed
	// power or sleep button, the PM timer is 32 bits.
	fadtWBINVD     = 1 << 0
	fadtProcC1     = 1 << 2
	fadtPwrButton  = 1 << 4
	fadtSlpButton  = 1 << 5
	fadtTmrValExt  = 1 << 8
	fadtFlagsGrove = fadtWBINVD | fadtProcC1 | fadtPwrButton | fadtSlpButton | fadtTmrValExt

	// IAPC_BOOT_ARCH (table 5.11): no VGA. LEGACY_DEVICES and 8042 stay
	// clear, so Linux probes neither PnP BIOS nor a keyboard controller;
	// CMOS RTC Not Present stays clear: there is one.
	bootArchNoVGA = 1 << 2
)

// Generic Address Structure (§5.2.3.2, table 5.1) for I/O ports.
const (
	gasSystemIO = 1
	gasWord     = 2
	gasDword    = 3
)

func fadt(facs, dsdt uint64) []byte {
	t := acpi.NewTable("FACP", fadtRevision, "GROVE", make([]byte, fadtLen-36))
	le := binary.LittleEndian
	le.PutUint32(t[fadtFirmwareCtrl:], uint32(facs))
	le.PutUint32(t[fadtDSDT:], uint32(dsdt))
	le.PutUint16(t[fadtSCIInt:], SCIGSI)
	// SMI_CMD stays 0: no firmware to take ACPI mode from (§4.8.2.1).
	le.PutUint32(t[fadtPM1aEvtBlk:], PM1aEvtPort)
	le.PutUint32(t[fadtPM1aCntBlk:], PM1aCntPort)
	le.PutUint32(t[fadtPMTmrBlk:], PMTimerPort)
	t[fadtPM1EvtLen], t[fadtPM1CntLen], t[fadtPMTmrLen] = PM1aEvtLen, PM1aCntLen, PMTimerLen
	le.PutUint16(t[fadtBootArch:], bootArchNoVGA)
	le.PutUint32(t[fadtFlags:], fadtFlagsGrove)
	t[fadtMinorVersion] = fadtMinor
	le.PutUint64(t[fadtXFirmwareCtl:], facs)
	le.PutUint64(t[fadtXDSDT:], dsdt)
	putGAS(t[fadtXPM1aEvtBlk:], PM1aEvtPort, PM1aEvtLen, gasWord)
	putGAS(t[fadtXPM1aCntBlk:], PM1aCntPort, PM1aCntLen, gasWord)
	putGAS(t[fadtXPMTmrBlk:], PMTimerPort, PMTimerLen, gasDword)
	acpi.FixChecksum(t)
	return t
}

// putGAS writes a 12-byte Generic Address Structure for n ports at port,
// the same block as the 32-bit field beside it (ACPICA warns on a mismatch).
func putGAS(b []byte, port uint16, n uint8, access uint8) {
	b[0], b[1], b[2], b[3] = gasSystemIO, n*8, 0, access
	binary.LittleEndian.PutUint64(b[4:], uint64(port))
}

// facs is the Firmware ACPI Control Structure (§5.2.10, table 5.14),
// version 2, all zero but its signature, length and version. It has no
// checksum. Linux wants one outside hardware-reduced mode (global lock,
// waking vector).
func facs() []byte {
	b := make([]byte, facsLen)
	copy(b, "FACS")
	binary.LittleEndian.PutUint32(b[4:], facsLen)
	b[32] = 2 // Version
	return b
}

// s5AML is Name (\_S5, Package (4) {5, 5, 0, 0}) (§7.4.2, §20.2.5): the
// sleep type Linux writes to PM1 control to power off.
var s5AML = []byte{
	0x08, '_', 'S', '5', '_', // NameOp, NameString
	0x12, 0x08, 0x04, // PackageOp, PkgLength 8, NumElements 4
	0x0A, SLPTypS5, 0x0A, SLPTypS5, // BytePrefix 5 (PM1a), BytePrefix 5 (PM1b)
	0x00, 0x00, // ZeroOp, ZeroOp (reserved)
}

// dsdt is the Differentiated System Description Table: the definition
// block holds \_S5 and nothing else (no devices: Linux finds the UART, PIT
// and RTC at their legacy ports).
func dsdt() []byte {
	return acpi.NewTable("DSDT", 2, "GROVE", s5AML)
}
