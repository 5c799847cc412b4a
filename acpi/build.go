package acpi

import (
	"encoding/binary"
	"errors"
)

// Builder writes an RSDP, a root table (XSDT, or RSDT for ACPI 1.0), a MADT
// and optionally a FADT into one byte slice meant to sit at Base in physical
// memory, with every checksum correct. It runs in ordinary Go (host tests,
// building a guest's memory) and allocates freely, unlike the parser.
type Builder struct {
	Base       uint64 // physical address of the slice; 16-byte aligned, the RSDP goes first
	ACPI1      bool   // revision 0 RSDP and an RSDT only, as SeaBIOS writes under QEMU 7.2
	OEMID      string // up to 6 bytes; "GROVE" when empty
	LAPICAddr  uint64 // 0 means 0xFEE00000; above 4 GiB it goes in a type 5 entry
	PCATCompat bool

	CPUs      []LocalAPIC // X2APIC ones become type 9 entries, others type 0
	IOAPICs   []IOAPIC
	Overrides []Override
	NMIs      []NMI // X2APIC ones become type 10 entries
	// RawEntries are appended to the MADT as they are (tests: bad lengths,
	// unknown types).
	RawEntries [][]byte

	FADT *FADT // nil: no FADT
	// ExtraTables are appended (their checksums fixed) and listed in the
	// root table after the FADT and the MADT.
	ExtraTables [][]byte
}

// FADT holds the Fixed ACPI Description Table fields a Grove guest needs
// (ACPI 6.5 §5.2.9, table 5.9); the rest are zero.
type FADT struct {
	BootArch uint16 // IAPC_BOOT_ARCH
	Flags    uint32 // e.g. HW_REDUCED_ACPI (bit 20)
	DSDT     uint64 // X_DSDT
}

// FADT field offsets and sizes (table 5.9), revision 6.5.
const (
	fadtLen         = 276
	fadtRevision    = 6
	fadtMinorOff    = 131
	fadtMinor       = 5
	fadtBootArchOff = 109
	fadtFlagsOff    = 112
	fadtXDSDTOff    = 140
)

// Layout says where Build put each structure (physical addresses).
type Layout struct {
	RSDP, Root, FADT, MADT uint64 // FADT is 0 when none was built
	Extra                  []uint64
	Size                   uint64 // bytes from Base
}

// defaultLAPICAddr is the architectural local APIC base.
const defaultLAPICAddr = 0xFEE00000

// Build lays the tables out from Base: RSDP, root table, FADT, MADT, extra
// tables, each on a 16-byte boundary.
func (b *Builder) Build() ([]byte, Layout, error) {
	if b.Base%rsdpAlign != 0 {
		return nil, Layout{}, errors.New("acpi: builder base not 16-byte aligned")
	}
	tables := [][]byte{}
	if b.FADT != nil {
		tables = append(tables, b.FADT.table(b.oemID()))
	}
	tables = append(tables, b.madt())
	for _, t := range b.ExtraTables {
		t = append([]byte(nil), t...)
		FixChecksum(t)
		tables = append(tables, t)
	}
	width := 8
	if b.ACPI1 {
		width = 4
	}
	lay := Layout{RSDP: b.Base, Root: b.Base + align16(rsdpV2Len)}
	next := lay.Root + align16(uint64(headerLen+width*len(tables)))
	addrs := make([]uint64, len(tables))
	for i, t := range tables {
		addrs[i] = next
		next += align16(uint64(len(t)))
	}
	if b.ACPI1 && next > 1<<32 {
		return nil, Layout{}, errors.New("acpi: builder: ACPI 1.0 tables must lie below 4 GiB")
	}
	lay.Size = next - b.Base
	out := make([]byte, lay.Size)
	copy(out[lay.Root-b.Base:], b.root(addrs, width))
	for i, t := range tables {
		copy(out[addrs[i]-b.Base:], t)
	}
	copy(out, b.rsdp(lay.Root))
	lay.assign(addrs, b.FADT != nil)
	return out, lay, nil
}

func (l *Layout) assign(addrs []uint64, fadt bool) {
	if fadt {
		l.FADT, addrs = addrs[0], addrs[1:]
	}
	l.MADT, l.Extra = addrs[0], addrs[1:]
}

func align16(n uint64) uint64 { return (n + 15) &^ 15 }

func (b *Builder) oemID() string {
	if b.OEMID == "" {
		return "GROVE"
	}
	return b.OEMID
}

// rsdp encodes the RSDP (§5.2.5.3) naming the root table at root.
func (b *Builder) rsdp(root uint64) []byte {
	r := make([]byte, rsdpV2Len)
	copy(r, rsdpSignature[:])
	copy(r[rsdpOEMIDOff:rsdpOEMIDOff+6], padded(b.oemID(), 6))
	if b.ACPI1 {
		binary.LittleEndian.PutUint32(r[rsdpRSDTOff:], uint32(root))
		r[rsdpChecksumOff] = -sum(r[:rsdpV1Len])
		return r[:rsdpV1Len]
	}
	r[rsdpRevisionOff] = 2
	binary.LittleEndian.PutUint32(r[rsdpLengthOff:], rsdpV2Len)
	binary.LittleEndian.PutUint64(r[rsdpXSDTOff:], root)
	r[rsdpChecksumOff] = -sum(r[:rsdpV1Len])
	r[32] = -sum(r)
	return r
}

// root encodes the XSDT (width 8) or RSDT (width 4) listing addrs.
func (b *Builder) root(addrs []uint64, width int) []byte {
	sig, rev := "XSDT", uint8(1)
	if width == 4 {
		sig = "RSDT"
	}
	body := make([]byte, width*len(addrs))
	for i, a := range addrs {
		if width == 8 {
			binary.LittleEndian.PutUint64(body[8*i:], a)
		} else {
			binary.LittleEndian.PutUint32(body[4*i:], uint32(a))
		}
	}
	return NewTable(sig, rev, b.oemID(), body)
}

func (f *FADT) table(oem string) []byte {
	t := NewTable("FACP", fadtRevision, oem, make([]byte, fadtLen-headerLen))
	binary.LittleEndian.PutUint16(t[fadtBootArchOff:], f.BootArch)
	binary.LittleEndian.PutUint32(t[fadtFlagsOff:], f.Flags)
	binary.LittleEndian.PutUint64(t[fadtXDSDTOff:], f.DSDT)
	t[fadtMinorOff] = fadtMinor
	FixChecksum(t)
	return t
}

// NewTable returns a table with a standard header (§5.2.6) before body and
// a correct checksum.
func NewTable(sig string, revision uint8, oemID string, body []byte) []byte {
	t := make([]byte, headerLen+len(body))
	copy(t[:4], padded(sig, 4))
	binary.LittleEndian.PutUint32(t[hdrLengthOff:], uint32(len(t)))
	t[hdrRevisionOff] = revision
	copy(t[hdrOEMIDOff:], padded(oemID, 6))
	copy(t[hdrTableIDOff:], padded(oemID+sig, 8))
	binary.LittleEndian.PutUint32(t[hdrOEMRevOff:], 1)
	copy(t[hdrCreatorOff:], "GRVE")
	binary.LittleEndian.PutUint32(t[hdrCreatorRev:], 1)
	copy(t[headerLen:], body)
	FixChecksum(t)
	return t
}

// FixChecksum sets the checksum byte of a table with a standard header so
// that its Length bytes add up to zero.
func FixChecksum(t []byte) {
	n := int(binary.LittleEndian.Uint32(t[hdrLengthOff:]))
	n = min(n, len(t))
	t[hdrChecksumOff] = 0
	t[hdrChecksumOff] = -sum(t[:n])
}

func padded(s string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	copy(b, s)
	return b
}
