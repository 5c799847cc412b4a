package acpi

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestParseMADTQEMUShape(t *testing.T) {
	for _, acpi1 := range []bool{false, true} {
		name := map[bool]string{false: "XSDT", true: "RSDT-only"}[acpi1]
		t.Run(name, func(t *testing.T) {
			b := qemuShape(4)
			b.ACPI1 = acpi1
			mem, lay := build(t, b)
			rsdp, err := FindRSDP(mem, lay.RSDP)
			if err != nil {
				t.Fatal(err)
			}
			if rsdp.UsesXSDT() == acpi1 {
				t.Fatalf("UsesXSDT = %v for %s", rsdp.UsesXSDT(), name)
			}
			topo, err := ParseMADT(mem, rsdp)
			if err != nil {
				t.Fatal(err)
			}
			checkQEMUTopology(t, &topo, 4)
		})
	}
}

// checkQEMUTopology checks what qemuShape(n) and QEMU's own tables hold.
func checkQEMUTopology(t *testing.T, topo *Topology, n int) {
	t.Helper()
	if topo.LAPICAddr != defaultLAPICAddr || !topo.PCATCompat {
		t.Errorf("LAPICAddr %#x PCATCompat %v", topo.LAPICAddr, topo.PCATCompat)
	}
	if topo.NumCPUs != n || topo.DroppedCPUs != 0 {
		t.Fatalf("%d CPUs (%d dropped), want %d", topo.NumCPUs, topo.DroppedCPUs, n)
	}
	for i, c := range topo.CPUs[:n] {
		if c.ID != uint32(i) || c.UID != uint32(i) || !c.Enabled() || c.X2APIC {
			t.Errorf("CPU %d: %+v", i, c)
		}
	}
	if topo.NumIOAPICs != 1 || topo.IOAPICs[0] != (IOAPIC{ID: 0, Addr: 0xFEC00000}) {
		t.Errorf("IOAPICs %d: %+v", topo.NumIOAPICs, topo.IOAPICs[0])
	}
	want := []Override{{0, 0, 2, 0}, {0, 5, 5, 0xd}, {0, 9, 9, 0xd}, {0, 10, 10, 0xd}, {0, 11, 11, 0xd}}
	if topo.NumOverrides != len(want) {
		t.Fatalf("%d overrides, want %d", topo.NumOverrides, len(want))
	}
	for i, o := range want {
		if topo.Overrides[i] != o {
			t.Errorf("override %d: %+v, want %+v", i, topo.Overrides[i], o)
		}
	}
	if topo.NumNMIs != 1 || topo.NMIs[0] != (NMI{UID: AllProcessors, LINT: 1}) {
		t.Errorf("NMIs %d: %+v", topo.NumNMIs, topo.NMIs[0])
	}
}

// madtCase builds tables from b, changes them with corrupt, and expects err
// from FindRSDP+ParseMADT, or, when err is nil, a topology check to pass.
type madtCase struct {
	name    string
	b       func(*Builder)
	corrupt func(t *testing.T, mem Segments, lay Layout)
	err     error
	check   func(t *testing.T, topo *Topology)
}

func raw(b ...byte) [][]byte { return [][]byte{b} }

var madtCases = []madtCase{
	{name: "bad RSDP checksum", corrupt: func(t *testing.T, m Segments, l Layout) { at(t, m, l.RSDP+rsdpOEMIDOff, 1)[0]++ }, err: ErrRSDPChecksum},
	{name: "bad RSDP extended checksum", corrupt: func(t *testing.T, m Segments, l Layout) { at(t, m, l.RSDP+33, 1)[0]++ }, err: ErrRSDPChecksum},
	{name: "bad XSDT checksum", corrupt: func(t *testing.T, m Segments, l Layout) { at(t, m, l.Root+headerLen, 1)[0]++ }, err: ErrXSDTChecksum},
	{name: "bad RSDT checksum", b: acpi1, corrupt: func(t *testing.T, m Segments, l Layout) { at(t, m, l.Root+hdrOEMIDOff, 1)[0]++ }, err: ErrRSDTChecksum},
	{name: "XSDT signature bad", corrupt: func(t *testing.T, m Segments, l Layout) {
		at(t, m, l.Root, 1)[0] = 'Y'
		fixTable(t, m, l.Root)
	}, err: ErrXSDTSignature},
	{name: "XSDT outside memory", corrupt: func(t *testing.T, m Segments, l Layout) {
		binary.LittleEndian.PutUint64(at(t, m, l.RSDP+rsdpXSDTOff, 8), 0xdead0000)
		fixRSDP(t, m, l.RSDP)
	}, err: ErrXSDTOutsideMem},
	{name: "XSDT length beyond memory", corrupt: func(t *testing.T, m Segments, l Layout) {
		binary.LittleEndian.PutUint32(at(t, m, l.Root+hdrLengthOff, 4), highSize)
	}, err: ErrXSDTTruncated},
	{name: "RSDT address zero", b: acpi1, corrupt: func(t *testing.T, m Segments, l Layout) {
		binary.LittleEndian.PutUint32(at(t, m, l.RSDP+rsdpRSDTOff, 4), 0)
		fixRSDP(t, m, l.RSDP)
	}, err: ErrNoRootTable},
	{name: "revision 2 without XSDT uses RSDT", b: acpi1, corrupt: func(t *testing.T, m Segments, l Layout) {
		r := at(t, m, l.RSDP, rsdpV2Len)
		r[rsdpRevisionOff] = 2
		binary.LittleEndian.PutUint32(r[rsdpLengthOff:], rsdpV2Len)
		fixRSDP(t, m, l.RSDP)
	}, check: cpus(4, 0)},
	{name: "MADT checksum bad", corrupt: func(t *testing.T, m Segments, l Layout) { at(t, m, l.MADT+madtEntriesOff+3, 1)[0]++ }, err: ErrMADTChecksum},
	{name: "MADT length beyond memory", corrupt: func(t *testing.T, m Segments, l Layout) {
		binary.LittleEndian.PutUint32(at(t, m, l.MADT+hdrLengthOff, 4), highSize)
	}, err: ErrMADTTruncated},
	{name: "MADT length huge", corrupt: func(t *testing.T, m Segments, l Layout) {
		binary.LittleEndian.PutUint32(at(t, m, l.MADT+hdrLengthOff, 4), 0xffffffff)
	}, err: ErrMADTTruncated},
	{name: "MADT shorter than its fixed fields", corrupt: func(t *testing.T, m Segments, l Layout) {
		binary.LittleEndian.PutUint32(at(t, m, l.MADT+hdrLengthOff, 4), headerLen+4)
		fixTable(t, m, l.MADT)
	}, err: ErrMADTTruncated},
	{name: "no MADT", corrupt: func(t *testing.T, m Segments, l Layout) {
		at(t, m, l.MADT+3, 1)[0] = 'X'
		fixTable(t, m, l.MADT)
	}, err: ErrNoMADT},
	{name: "MADT pointer outside memory", corrupt: func(t *testing.T, m Segments, l Layout) {
		binary.LittleEndian.PutUint64(at(t, m, l.Root+headerLen, 8), 1<<40)
		fixTable(t, m, l.Root)
	}, err: ErrNoMADT},
	{name: "entry length 0", b: rawEntries(0, 0), err: ErrMADTEntryLength},
	{name: "entry length 1", b: rawEntries(0x7f, 1), err: ErrMADTEntryLength},
	{name: "entry running past the table", b: rawEntries(0, 8, 0, 9), err: ErrMADTTruncated},
	{name: "lone type byte at the end", b: rawEntries(0), err: ErrMADTTruncated},
	{name: "IOAPIC entry shorter than its type", b: rawEntries(1, 4, 0, 0), err: ErrMADTEntryLength},
	{name: "unknown and longer entries", b: rawEntries(0x7f, 3, 0, 0, 10, 0, 5, 0, 0, 0, 0, 0, 0), check: func(t *testing.T, topo *Topology) {
		cpus(5, 0)(t, topo)
		if c := topo.CPUs[4]; c.ID != 5 || c.Enabled() {
			t.Errorf("CPU from a 10-byte type 0 entry: %+v", c)
		}
	}},
	{name: "disabled and online-capable CPUs", b: func(b *Builder) {
		b.CPUs[1].Flags = 0
		b.CPUs[2].Flags = LAPICOnlineCapable
		b.CPUs[3].Flags = LAPICEnabled | LAPICOnlineCapable
	}, check: func(t *testing.T, topo *Topology) {
		got := [][2]bool{}
		for _, c := range topo.CPUs[:topo.NumCPUs] {
			got = append(got, [2]bool{c.Enabled(), c.OnlineCapable()})
		}
		want := [][2]bool{{true, false}, {false, false}, {false, true}, {true, false}}
		if len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
			t.Errorf("enabled/online-capable = %v, want %v", got, want)
		}
	}},
	{name: "x2APIC entries", b: func(b *Builder) {
		b.CPUs = append(b.CPUs, LocalAPIC{ID: 0x100, UID: 300, Flags: LAPICEnabled, X2APIC: true})
		b.NMIs = append(b.NMIs, NMI{UID: AllProcessors, Flags: 5, LINT: 1, X2APIC: true})
	}, check: func(t *testing.T, topo *Topology) {
		cpus(5, 0)(t, topo)
		if c := topo.CPUs[4]; c != (LocalAPIC{ID: 0x100, UID: 300, Flags: LAPICEnabled, X2APIC: true}) {
			t.Errorf("x2APIC CPU %+v", c)
		}
		if topo.NumNMIs != 2 || topo.NMIs[1] != (NMI{UID: AllProcessors, Flags: 5, LINT: 1, X2APIC: true}) {
			t.Errorf("x2APIC NMI %+v", topo.NMIs[1])
		}
	}},
	{name: "more than MaxCPUs", b: func(b *Builder) { *b = qemuShape(MaxCPUs + 6) }, check: cpus(MaxCPUs, 6)},
	{name: "more IOAPICs overrides NMIs than room", b: func(b *Builder) {
		b.IOAPICs = make([]IOAPIC, MaxIOAPICs+1)
		b.Overrides = make([]Override, MaxOverrides+2)
		b.NMIs = make([]NMI, MaxNMIs+3)
	}, check: func(t *testing.T, topo *Topology) {
		if topo.NumIOAPICs != MaxIOAPICs || topo.DroppedIOAPICs != 1 ||
			topo.NumOverrides != MaxOverrides || topo.DroppedOverrides != 2 ||
			topo.NumNMIs != MaxNMIs || topo.DroppedNMIs != 3 {
			t.Errorf("kept/dropped: IOAPICs %d/%d overrides %d/%d NMIs %d/%d", topo.NumIOAPICs, topo.DroppedIOAPICs,
				topo.NumOverrides, topo.DroppedOverrides, topo.NumNMIs, topo.DroppedNMIs)
		}
	}},
	{name: "LAPIC address override", b: func(b *Builder) { b.LAPICAddr = 0x1_2345_6000 }, check: func(t *testing.T, topo *Topology) {
		if topo.LAPICAddr != 0x1_2345_6000 {
			t.Errorf("LAPICAddr %#x", topo.LAPICAddr)
		}
	}},
	{name: "second APIC table ignored", b: func(b *Builder) {
		other := qemuShape(1)
		b.ExtraTables = [][]byte{other.madt()}
	}, check: cpus(4, 0)},
}

func acpi1(b *Builder) { b.ACPI1 = true }

func rawEntries(e ...byte) func(*Builder) {
	return func(b *Builder) { b.RawEntries = raw(e...) }
}

func cpus(n, dropped int) func(*testing.T, *Topology) {
	return func(t *testing.T, topo *Topology) {
		t.Helper()
		if topo.NumCPUs != n || topo.DroppedCPUs != dropped {
			t.Fatalf("%d CPUs, %d dropped; want %d, %d", topo.NumCPUs, topo.DroppedCPUs, n, dropped)
		}
		for i, c := range topo.CPUs[:min(n, 4)] {
			if c.ID != uint32(i) {
				t.Errorf("CPU %d has APIC id %d: not in table order", i, c.ID)
			}
		}
	}
}

func TestParseMADTCases(t *testing.T) {
	for _, tc := range madtCases {
		t.Run(tc.name, func(t *testing.T) {
			b := qemuShape(4)
			if tc.b != nil {
				tc.b(&b)
			}
			mem, lay := build(t, b)
			if tc.corrupt != nil {
				tc.corrupt(t, mem, lay)
			}
			topo, err := findAndParse(mem, lay.RSDP)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && tc.check != nil {
				tc.check(t, &topo)
			}
		})
	}
}

// findAndParse is the kernel's sequence: FindRSDP with the loader's hint,
// then ParseMADT.
func findAndParse(mem Memory, hint uint64) (Topology, error) {
	rsdp, err := FindRSDP(mem, hint)
	if err != nil {
		return Topology{}, err
	}
	return ParseMADT(mem, rsdp)
}
