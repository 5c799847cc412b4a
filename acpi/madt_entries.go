package acpi

// entrySize is the length of each MADT entry type this package decodes
// (ACPI 6.5 tables 5.45-5.58); 0 for types it skips. An entry shorter than
// its type's size is an error; a longer one is accepted (later revisions may
// grow an entry) and read up to the size.
var entrySize = [...]uint8{
	typeLocalAPIC:      8,
	typeIOAPIC:         12,
	typeSourceOverride: 10,
	typeLocalAPICNMI:   6,
	typeLAPICAddr:      12,
	typeLocalX2APIC:    16,
	typeLocalX2APICNMI: 12,
}

// decodeEntry decodes one entry e (type, length, fields). A switch rather
// than a table of functions: an indirect call would make t escape.
func decodeEntry(e []byte, t *Topology) error {
	typ := int(e[0])
	if typ >= len(entrySize) || entrySize[typ] == 0 {
		return nil
	}
	if len(e) < int(entrySize[typ]) {
		return ErrMADTEntryLength
	}
	switch typ {
	case typeLocalAPIC:
		t.addCPU(LocalAPIC{ID: uint32(e[3]), UID: uint32(e[2]), Flags: le32(e[4:])})
	case typeLocalX2APIC:
		t.addCPU(LocalAPIC{ID: le32(e[4:]), UID: le32(e[12:]), Flags: le32(e[8:]), X2APIC: true})
	case typeIOAPIC:
		t.addIOAPIC(IOAPIC{ID: e[2], Addr: le32(e[4:]), GSIBase: le32(e[8:])})
	case typeSourceOverride:
		t.addOverride(Override{Bus: e[2], Source: e[3], GSI: le32(e[4:]), Flags: le16(e[8:])})
	case typeLocalAPICNMI:
		uid := uint32(e[2])
		if uid == 0xFF {
			uid = AllProcessors
		}
		t.addNMI(NMI{UID: uid, Flags: le16(e[3:]), LINT: e[5]})
	case typeLocalX2APICNMI:
		t.addNMI(NMI{UID: le32(e[4:]), Flags: le16(e[2:]), LINT: e[8], X2APIC: true})
	case typeLAPICAddr:
		t.LAPICAddr = le64(e[4:])
	}
	return nil
}

// AllProcessors is the NMI.UID meaning every processor (0xFF in a type 4
// entry, 0xFFFFFFFF in a type 10 entry).
const AllProcessors = 0xFFFFFFFF

func (t *Topology) addCPU(c LocalAPIC) {
	if t.NumCPUs == len(t.CPUs) {
		t.DroppedCPUs++
		return
	}
	t.CPUs[t.NumCPUs] = c
	t.NumCPUs++
}

func (t *Topology) addIOAPIC(a IOAPIC) {
	if t.NumIOAPICs == len(t.IOAPICs) {
		t.DroppedIOAPICs++
		return
	}
	t.IOAPICs[t.NumIOAPICs] = a
	t.NumIOAPICs++
}

func (t *Topology) addOverride(o Override) {
	if t.NumOverrides == len(t.Overrides) {
		t.DroppedOverrides++
		return
	}
	t.Overrides[t.NumOverrides] = o
	t.NumOverrides++
}

func (t *Topology) addNMI(n NMI) {
	if t.NumNMIs == len(t.NMIs) {
		t.DroppedNMIs++
		return
	}
	t.NMIs[t.NumNMIs] = n
	t.NumNMIs++
}
