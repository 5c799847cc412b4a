package acpi

// RSDP fields (ACPI 6.5 §5.2.5.3, table 5.3).
const (
	rsdpV1Len       = 20 // the ACPI 1.0 part that the first checksum covers
	rsdpV2Len       = 36
	rsdpChecksumOff = 8
	rsdpOEMIDOff    = 9
	rsdpRevisionOff = 15
	rsdpRSDTOff     = 16
	rsdpLengthOff   = 20
	rsdpXSDTOff     = 24
	rsdpMaxLen      = 4096 // bound for the Length field, which covers reserved bytes too
)

// BIOS areas the RSDP may lie in (§5.2.5.1): the first KiB of the EBDA, whose
// real-mode segment the BIOS data area holds at 0x40E, then the BIOS ROM
// area, on 16-byte boundaries.
const (
	ebdaPointer = 0x40E
	ebdaScanLen = 1024
	biosROMBase = 0xE0000
	biosROMLen  = 0x20000
	rsdpAlign   = 16
)

var rsdpSignature = [8]byte{'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '}

// RSDP is a validated Root System Description Pointer.
type RSDP struct {
	Addr     uint64 // where it was found
	Revision uint8  // 0 for ACPI 1.0 (RSDT only), 2 and up for ACPI 2.0+
	OEMID    [6]byte
	RSDTAddr uint32
	XSDTAddr uint64 // 0 when Revision < 2
}

// UsesXSDT says whether the tables are walked through the XSDT: ACPI 2.0+
// with a non-zero XsdtAddress (§5.2.5.3: the OS uses it in preference).
func (r *RSDP) UsesXSDT() bool { return r.Revision >= 2 && r.XSDTAddr != 0 }

// FindRSDP returns the RSDP at hint when hint is non-zero and holds a valid
// one (the loader's: PVH rsdp_paddr, a multiboot2 ACPI tag's copy), else the
// first valid one the BIOS scan finds. When nothing valid is found it reports
// a bad checksum if some candidate had one, else ErrNoRSDP.
func FindRSDP[M Memory](mem M, hint uint64) (RSDP, error) {
	var r RSDP
	sawBad := false
	if hint != 0 {
		err := readRSDP(mem, hint, &r)
		if err == nil {
			return r, nil
		}
		sawBad = err == ErrRSDPChecksum
	}
	if b, ok := mem.Bytes(ebdaPointer, 2); ok {
		if ebda := uint64(le16(b)) << 4; ebda != 0 && scanRSDP(mem, ebda, ebdaScanLen, &r, &sawBad) {
			return r, nil
		}
	}
	if scanRSDP(mem, biosROMBase, biosROMLen, &r, &sawBad) {
		return r, nil
	}
	if sawBad {
		return RSDP{}, ErrRSDPChecksum
	}
	return RSDP{}, ErrNoRSDP
}

// scanRSDP looks for a valid RSDP in [base, base+n) on 16-byte boundaries.
func scanRSDP[M Memory](mem M, base, n uint64, r *RSDP, sawBad *bool) bool {
	area, ok := mem.Bytes(base, n)
	if !ok {
		return false
	}
	for off := 0; off+len(rsdpSignature) <= len(area); off += rsdpAlign {
		if [8]byte(area[off:off+8]) != rsdpSignature {
			continue
		}
		err := readRSDP(mem, base+uint64(off), r)
		if err == nil {
			return true
		}
		if err == ErrRSDPChecksum {
			*sawBad = true
		}
	}
	return false
}

// readRSDP validates the RSDP at pa: signature, the ACPI 1.0 checksum and,
// for revision 2 and up, the extended checksum over Length bytes.
func readRSDP[M Memory](mem M, pa uint64, r *RSDP) error {
	b, ok := mem.Bytes(pa, rsdpV1Len)
	if !ok {
		return ErrRSDPOutsideMem
	}
	if [8]byte(b[:8]) != rsdpSignature {
		return ErrNoRSDP
	}
	if sum(b) != 0 {
		return ErrRSDPChecksum
	}
	*r = RSDP{Addr: pa, Revision: b[rsdpRevisionOff], OEMID: [6]byte(b[rsdpOEMIDOff : rsdpOEMIDOff+6]), RSDTAddr: le32(b[rsdpRSDTOff:])}
	if r.Revision < 2 {
		return nil
	}
	b, ok = mem.Bytes(pa, rsdpV2Len)
	if !ok {
		return ErrRSDPOutsideMem
	}
	n := uint64(le32(b[rsdpLengthOff:]))
	if n < rsdpV2Len || n > rsdpMaxLen {
		return ErrRSDPChecksum
	}
	if ext, ok := mem.Bytes(pa, n); !ok || sum(ext) != 0 {
		return ErrRSDPChecksum
	}
	r.XSDTAddr = le64(b[rsdpXSDTOff:])
	return nil
}
