package acpi

import (
	"encoding/binary"
	"testing"
)

// Fake RAM for the tests: the first MiB (BIOS data area, EBDA, BIOS ROM
// area) and a high window where most tests put their tables, as SeaBIOS
// puts them near the top of RAM.
const (
	lowMemSize = 0x100000
	highBase   = 0x7fe0000
	highSize   = 0x20000
	testEBDA   = 0x9fc00
)

// newMem returns fake RAM holding img at base, with the BDA's EBDA pointer
// set as SeaBIOS sets it.
func newMem(t testing.TB, base uint64, img []byte) Segments {
	low := make([]byte, lowMemSize)
	high := make([]byte, highSize)
	binary.LittleEndian.PutUint16(low[ebdaPointer:], testEBDA>>4)
	mem := Segments{{0, low}, {highBase, high}}
	if img != nil {
		b, ok := mem.Bytes(base, uint64(len(img)))
		if !ok {
			t.Fatalf("image of %d bytes does not fit at %#x", len(img), base)
		}
		copy(b, img)
	}
	return mem
}

// qemuShape returns a Builder for the tables QEMU 7.2's q35 machine gives
// with -smp n (see testdata/qemu-q35-smp4.seg for the real thing): one
// enabled Local APIC per CPU, one IOAPIC at 0xFEC00000 with GSI base 0, IRQ
// 0 to GSI 2, IRQs 5, 9, 10, 11 level-triggered active-high, and LINT1 as
// NMI on every processor.
func qemuShape(n int) Builder {
	b := Builder{Base: highBase, PCATCompat: true, OEMID: "BOCHS"}
	for i := range n {
		b.CPUs = append(b.CPUs, LocalAPIC{ID: uint32(i), UID: uint32(i), Flags: LAPICEnabled})
	}
	b.IOAPICs = []IOAPIC{{ID: 0, Addr: 0xFEC00000, GSIBase: 0}}
	b.Overrides = []Override{{Source: 0, GSI: 2}}
	for _, irq := range []uint8{5, 9, 10, 11} {
		b.Overrides = append(b.Overrides, Override{Source: irq, GSI: uint32(irq), Flags: 0xd})
	}
	b.NMIs = []NMI{{UID: AllProcessors, LINT: 1}}
	return b
}

// build runs b.Build and puts the result into fresh fake RAM.
func build(t testing.TB, b Builder) (Segments, Layout) {
	t.Helper()
	img, lay, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return newMem(t, b.Base, img), lay
}

// at returns n bytes of mem at pa for a test to change.
func at(t testing.TB, mem Segments, pa, n uint64) []byte {
	t.Helper()
	b, ok := mem.Bytes(pa, n)
	if !ok {
		t.Fatalf("%#x+%d outside fake memory", pa, n)
	}
	return b
}

// fixTable recomputes the checksum of the table at pa after a test changed it.
func fixTable(t testing.TB, mem Segments, pa uint64) {
	FixChecksum(at(t, mem, pa, uint64(binary.LittleEndian.Uint32(at(t, mem, pa, headerLen)[hdrLengthOff:]))))
}

// fixRSDP recomputes both RSDP checksums after a test changed it.
func fixRSDP(t testing.TB, mem Segments, pa uint64) {
	r := at(t, mem, pa, rsdpV2Len)
	r[rsdpChecksumOff] = 0
	r[rsdpChecksumOff] = -sum(r[:rsdpV1Len])
	if r[rsdpRevisionOff] >= 2 {
		r[32] = 0
		r[32] = -sum(r)
	}
}
