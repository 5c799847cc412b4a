package acpi

import "encoding/binary"

// madtRevision is the MADT revision of ACPI 6.5.
const madtRevision = 6

// madt encodes the MADT (§5.2.12) from the Builder's lists: CPUs, NMIs,
// IOAPICs, overrides, the address override, then RawEntries.
func (b *Builder) madt() []byte {
	body := make([]byte, 8)
	addr := b.LAPICAddr
	if addr == 0 {
		addr = defaultLAPICAddr
	}
	if addr < 1<<32 {
		binary.LittleEndian.PutUint32(body, uint32(addr))
	}
	if b.PCATCompat {
		binary.LittleEndian.PutUint32(body[4:], madtPCATCompat)
	}
	for _, c := range b.CPUs {
		body = append(body, cpuEntry(c)...)
	}
	for _, a := range b.IOAPICs {
		body = append(body, ioapicEntry(a)...)
	}
	for _, o := range b.Overrides {
		body = append(body, overrideEntry(o)...)
	}
	for _, n := range b.NMIs {
		body = append(body, nmiEntry(n)...)
	}
	if addr >= 1<<32 {
		e := entry(typeLAPICAddr)
		binary.LittleEndian.PutUint64(e[4:], addr)
		body = append(body, e...)
	}
	for _, e := range b.RawEntries {
		body = append(body, e...)
	}
	return NewTable("APIC", madtRevision, b.oemID(), body)
}

// entry returns a zeroed entry of type typ with its type and length set.
func entry(typ int) []byte {
	e := make([]byte, entrySize[typ])
	e[0], e[1] = byte(typ), entrySize[typ]
	return e
}

func cpuEntry(c LocalAPIC) []byte {
	if c.X2APIC {
		e := entry(typeLocalX2APIC)
		binary.LittleEndian.PutUint32(e[4:], c.ID)
		binary.LittleEndian.PutUint32(e[8:], c.Flags)
		binary.LittleEndian.PutUint32(e[12:], c.UID)
		return e
	}
	e := entry(typeLocalAPIC)
	e[2], e[3] = byte(c.UID), byte(c.ID)
	binary.LittleEndian.PutUint32(e[4:], c.Flags)
	return e
}

func ioapicEntry(a IOAPIC) []byte {
	e := entry(typeIOAPIC)
	e[2] = a.ID
	binary.LittleEndian.PutUint32(e[4:], a.Addr)
	binary.LittleEndian.PutUint32(e[8:], a.GSIBase)
	return e
}

func overrideEntry(o Override) []byte {
	e := entry(typeSourceOverride)
	e[2], e[3] = o.Bus, o.Source
	binary.LittleEndian.PutUint32(e[4:], o.GSI)
	binary.LittleEndian.PutUint16(e[8:], o.Flags)
	return e
}

func nmiEntry(n NMI) []byte {
	if n.X2APIC {
		e := entry(typeLocalX2APICNMI)
		binary.LittleEndian.PutUint16(e[2:], n.Flags)
		binary.LittleEndian.PutUint32(e[4:], n.UID)
		e[8] = n.LINT
		return e
	}
	e := entry(typeLocalAPICNMI)
	e[2] = byte(n.UID) // AllProcessors becomes 0xFF
	binary.LittleEndian.PutUint16(e[3:], n.Flags)
	e[5] = n.LINT
	return e
}
