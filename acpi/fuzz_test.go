package acpi

import (
	"testing"
)

// boundedMem is fake RAM that fails the test when the parser asks it for
// more ranges than any walk of a table in it could need: a parser stuck in
// a loop shows up as a failure, not a hang. Views are capped at their end
// (Segments does that), so a read past what was asked for panics.
type boundedMem struct {
	Segments
	t     *testing.T
	calls *int
}

const maxMemCalls = 1 << 20

func (m boundedMem) Bytes(pa, n uint64) ([]byte, bool) {
	*m.calls++
	if *m.calls > maxMemCalls {
		m.t.Fatalf("more than %d memory reads: the parser loops", maxMemCalls)
	}
	return m.Segments.Bytes(pa, n)
}

// FuzzParseMADT feeds arbitrary memory images at highBase to FindRSDP (with
// a hint into the image) and ParseMADT. Whatever the bytes, it must return
// (no panic, no endless loop), and a successful parse must agree with a
// plain count of the MADT's processor entries.
func FuzzParseMADT(f *testing.F) {
	for _, b := range fuzzSeeds() {
		img, lay, err := b.Build()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(img, uint32(lay.RSDP-highBase))
	}
	f.Fuzz(func(t *testing.T, img []byte, hintOff uint32) {
		calls := 0
		mem := boundedMem{Segments{{highBase, img}}, t, &calls}
		rsdp, err := FindRSDP(mem, highBase+uint64(hintOff))
		if err != nil {
			return
		}
		topo, err := ParseMADT(mem, rsdp)
		if err != nil {
			return
		}
		checkTopology(t, mem, rsdp, &topo)
	})
}

// checkTopology counts processor entries in the MADT the simplest way and
// compares with what ParseMADT kept and dropped.
func checkTopology(t *testing.T, mem Memory, rsdp RSDP, topo *Topology) {
	madt, err := FindTable(mem, rsdp, [4]byte{'A', 'P', 'I', 'C'}, 0)
	if err != nil {
		t.Fatalf("ParseMADT succeeded, FindTable: %v", err)
	}
	n := 0
	for e := madt.Data[madtEntriesOff:]; len(e) > 0; e = e[e[1]:] {
		if e[0] == typeLocalAPIC || e[0] == typeLocalX2APIC {
			n++
		}
	}
	if topo.NumCPUs > MaxCPUs || topo.NumCPUs+topo.DroppedCPUs != n {
		t.Fatalf("%d CPUs kept + %d dropped, MADT has %d", topo.NumCPUs, topo.DroppedCPUs, n)
	}
}

// FuzzFindRSDP feeds arbitrary bytes as the BIOS ROM area (0xE0000, which
// the EBDA pointer also names) to the scan, with an optional hint into it.
func FuzzFindRSDP(f *testing.F) {
	for _, b := range fuzzSeeds() {
		b.Base = biosROMBase + 0x40
		img, _, err := b.Build()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append(make([]byte, 0x40), img...), uint32(0))
		f.Add(append(make([]byte, 0x40), img...), uint32(0x40))
	}
	f.Fuzz(func(t *testing.T, img []byte, hintOff uint32) {
		rom := make([]byte, biosROMLen)
		copy(rom, img)
		bda := []byte{biosROMBase >> 4 & 0xff, biosROMBase >> 12}
		calls := 0
		mem := boundedMem{Segments{{ebdaPointer, bda}, {biosROMBase, rom}}, t, &calls}
		var hint uint64
		if hintOff != 0 {
			hint = biosROMBase + uint64(hintOff)
		}
		r, err := FindRSDP(mem, hint)
		if err == nil && (r.Addr < biosROMBase || sum(rom[r.Addr-biosROMBase:][:rsdpV1Len]) != 0) {
			t.Fatalf("RSDP at %#x is not a checksummed one in the image", r.Addr)
		}
		if err == nil {
			_, _ = ParseMADT(mem, r)
		}
	})
}

// fuzzSeeds are good tables of every shape the Builder makes.
func fuzzSeeds() []Builder {
	q := qemuShape(4)
	r := qemuShape(2)
	r.ACPI1 = true
	x := qemuShape(2)
	x.CPUs = append(x.CPUs, LocalAPIC{ID: 0x100, Flags: LAPICEnabled, X2APIC: true})
	x.NMIs = append(x.NMIs, NMI{UID: AllProcessors, LINT: 1, X2APIC: true})
	x.LAPICAddr = 1 << 36
	x.FADT = &FADT{}
	return []Builder{q, r, x}
}
