package acpi

// Sizes of the Topology arrays. Entries past them are counted in the
// Dropped fields, never stored.
const (
	MaxCPUs      = 64
	MaxIOAPICs   = 8
	MaxOverrides = 16
	MaxNMIs      = 16
)

// MADT fields (ACPI 6.5 §5.2.12, table 5.43) and its entry types (table 5.44).
const (
	madtLAPICAddrOff = headerLen
	madtFlagsOff     = headerLen + 4
	madtEntriesOff   = headerLen + 8
	madtPCATCompat   = 1 << 0

	typeLocalAPIC      = 0
	typeIOAPIC         = 1
	typeSourceOverride = 2
	typeLocalAPICNMI   = 4
	typeLAPICAddr      = 5
	typeLocalX2APIC    = 9
	typeLocalX2APICNMI = 10
)

// Local APIC flags (§5.2.12.2, table 5.46). OnlineCapable is reserved (zero)
// when Enabled is set.
const (
	LAPICEnabled       = 1 << 0
	LAPICOnlineCapable = 1 << 1
)

// LocalAPIC is one processor: a Processor Local APIC (type 0) or Processor
// Local x2APIC (type 9) entry.
type LocalAPIC struct {
	ID     uint32 // the (x2)APIC id the processor answers to
	UID    uint32 // ACPI processor UID
	Flags  uint32
	X2APIC bool // from a type 9 entry
}

// Enabled says the processor is usable now: start it.
func (l LocalAPIC) Enabled() bool { return l.Flags&LAPICEnabled != 0 }

// OnlineCapable says a disabled processor may be enabled at run time.
func (l LocalAPIC) OnlineCapable() bool {
	return l.Flags&LAPICEnabled == 0 && l.Flags&LAPICOnlineCapable != 0
}

// IOAPIC is an I/O APIC entry (type 1, §5.2.12.3).
type IOAPIC struct {
	ID      uint8
	Addr    uint32
	GSIBase uint32
}

// Override is an Interrupt Source Override (type 2, §5.2.12.5): ISA IRQ
// Source on Bus reaches the global system interrupt GSI. Flags holds the
// MPS INTI polarity (bits 1:0) and trigger mode (bits 3:2).
type Override struct {
	Bus    uint8
	Source uint8
	GSI    uint32
	Flags  uint16
}

// NMI is a Local APIC NMI (type 4) or Local x2APIC NMI (type 10) entry: the
// processor with UID (all processors when UID is 0xFF for type 4,
// 0xFFFFFFFF for type 10) has NMI wired to its LINT pin (0 or 1).
type NMI struct {
	UID    uint32
	Flags  uint16
	LINT   uint8
	X2APIC bool
}

// Topology is what the MADT says about the processors and interrupt
// controllers, in table order. The boot processor is not marked: the caller
// compares its own APIC id.
type Topology struct {
	LAPICAddr  uint64 // the header's, or a type 5 override's
	PCATCompat bool   // dual 8259s present: mask them before using the IOAPIC

	CPUs        [MaxCPUs]LocalAPIC
	NumCPUs     int
	DroppedCPUs int

	IOAPICs        [MaxIOAPICs]IOAPIC
	NumIOAPICs     int
	DroppedIOAPICs int

	Overrides        [MaxOverrides]Override
	NumOverrides     int
	DroppedOverrides int

	NMIs        [MaxNMIs]NMI
	NumNMIs     int
	DroppedNMIs int
}

// ParseMADT finds the first MADT the root table lists and decodes it.
func ParseMADT[M Memory](mem M, rsdp RSDP) (Topology, error) {
	var t Topology
	err := ParseMADTInto(mem, rsdp, &t)
	return t, err
}

// ParseMADTInto is ParseMADT writing into *t, for callers whose stack is
// too small for a copy of Topology. *t is reset first; on error it holds
// what was decoded before the error.
func ParseMADTInto[M Memory](mem M, rsdp RSDP, t *Topology) error {
	*t = Topology{}
	madt, err := FindTable(mem, rsdp, [4]byte{'A', 'P', 'I', 'C'}, 0)
	if err != nil {
		return err
	}
	return decodeMADT(madt.Data, t)
}

// decodeMADT decodes a checksummed MADT. Every entry must be at least the
// size of its type and lie inside the table; unknown types are skipped by
// their length, which is at least 2, so the walk always advances.
func decodeMADT(b []byte, t *Topology) error {
	if len(b) < madtEntriesOff {
		return ErrMADTTruncated
	}
	t.LAPICAddr = uint64(le32(b[madtLAPICAddrOff:]))
	t.PCATCompat = le32(b[madtFlagsOff:])&madtPCATCompat != 0
	for off := madtEntriesOff; off < len(b); {
		if len(b)-off < 2 {
			return ErrMADTTruncated
		}
		n := int(b[off+1])
		if n < 2 {
			return ErrMADTEntryLength
		}
		if n > len(b)-off {
			return ErrMADTTruncated
		}
		if err := decodeEntry(b[off:off+n], t); err != nil {
			return err
		}
		off += n
	}
	return nil
}
