package guest

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"grove/acpi"
)

func TestACPITables(t *testing.T) {
	for _, vcpus := range []int{1, 2, 16, 255} {
		t.Run(fmt.Sprintf("vcpus%d", vcpus), func(t *testing.T) {
			tables, lay, err := ACPITables(vcpus)
			if err != nil {
				t.Fatal(err)
			}
			mem := make([]byte, HighRAM)
			copy(mem[ACPIBase:], tables)
			if lay.RSDP < ACPIBase || lay.RSDP%16 != 0 || lay.FACS%64 != 0 {
				t.Errorf("RSDP at %#x, FACS at %#x: want 16- and 64-byte aligned in the BIOS area", lay.RSDP, lay.FACS)
			}
			checkACPI(t, mem, vcpus)
		})
	}
}

func TestACPITablesRefusals(t *testing.T) {
	for _, vcpus := range []int{0, -1, 256} {
		t.Run(fmt.Sprintf("vcpus%d", vcpus), func(t *testing.T) {
			if _, _, err := ACPITables(vcpus); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d vCPUs", vcpus)) {
				t.Fatalf("ACPITables(%d) = %v, want an error naming the count", vcpus, err)
			}
		})
	}
}

// checkACPI finds the tables in mem (guest RAM from 0) as Linux would
// without a hint, by scanning the BIOS area, and checks each against
// platform.go with the repository's parser.
func checkACPI(t *testing.T, mem []byte, vcpus int) {
	t.Helper()
	ram := acpi.Segments{{Addr: 0, Data: mem}}
	rsdp, err := acpi.FindRSDP(ram, 0)
	if err != nil {
		t.Fatalf("RSDP scan: %v", err)
	}
	if !rsdp.UsesXSDT() {
		t.Errorf("RSDP revision %d names no XSDT", rsdp.Revision)
	}
	topo, err := acpi.ParseMADT(ram, rsdp)
	if err != nil {
		t.Fatalf("MADT: %v", err)
	}
	checkMADT(t, &topo, vcpus)
	fadt, err := acpi.FindTable(ram, rsdp, [4]byte{'F', 'A', 'C', 'P'}, 0) // checks the checksum
	if err != nil {
		t.Fatalf("FADT: %v", err)
	}
	checkFADT(t, fadt.Data)
	checkDSDTAndFACS(t, ram, fadt.Data)
}

func checkMADT(t *testing.T, topo *acpi.Topology, vcpus int) {
	t.Helper()
	if n := topo.NumCPUs + topo.DroppedCPUs; n != vcpus || topo.LAPICAddr != 0xFEE00000 || topo.PCATCompat {
		t.Errorf("MADT: %d CPUs, LAPIC at %#x, PCAT_COMPAT %v; want %d, 0xFEE00000, false",
			n, topo.LAPICAddr, topo.PCATCompat, vcpus)
	}
	for i, c := range topo.CPUs[:min(topo.NumCPUs, acpi.MaxCPUs)] {
		if c.ID != uint32(i) || !c.Enabled() || c.X2APIC {
			t.Errorf("CPU %d: %+v, want xAPIC id %d enabled", i, c, i)
		}
	}
	wantIO := acpi.IOAPIC{ID: 0, Addr: 0xFEC00000, GSIBase: 0}
	if topo.NumIOAPICs != 1 || topo.IOAPICs[0] != wantIO {
		t.Errorf("IOAPICs %v, want one %+v", topo.IOAPICs[:topo.NumIOAPICs], wantIO)
	}
	wantOv := []acpi.Override{{Source: 0, GSI: 2, Flags: 0b0101}, {Source: 9, GSI: 9, Flags: 0b1101}}
	if got := topo.Overrides[:topo.NumOverrides]; fmt.Sprint(got) != fmt.Sprint(wantOv) {
		t.Errorf("overrides %+v, want IRQ0->GSI2 edge/high and IRQ9->GSI9 level/high %+v", got, wantOv)
	}
}

func checkFADT(t *testing.T, f []byte) {
	t.Helper()
	le := binary.LittleEndian
	if len(f) != 276 || f[8] < 5 {
		t.Errorf("FADT length %d revision %d, want 276 and 5 or more", len(f), f[8])
	}
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"SCI_INT", uint64(le.Uint16(f[46:])), 9},
		{"SMI_CMD", uint64(le.Uint32(f[48:])), 0},
		{"PM1a_EVT_BLK", uint64(le.Uint32(f[56:])), 0x600},
		{"PM1a_CNT_BLK", uint64(le.Uint32(f[64:])), 0x604},
		{"PM_TMR_BLK", uint64(le.Uint32(f[76:])), 0x608},
		{"PM_TMR_LEN", uint64(f[91]), 4},
		{"TMR_VAL_EXT", uint64(le.Uint32(f[112:]) >> 8 & 1), 1},
		{"HW_REDUCED_ACPI", uint64(le.Uint32(f[112:]) >> 20 & 1), 0},
		{"X_PM_TMR_BLK space", uint64(f[208]), 1},
		{"X_PM_TMR_BLK width", uint64(f[209]), 32},
		{"X_PM_TMR_BLK address", le.Uint64(f[212:]), 0x608},
		{"DSDT = X_DSDT", uint64(le.Uint32(f[40:])), le.Uint64(f[140:])},
		{"FIRMWARE_CTRL = X_FIRMWARE_CTRL", uint64(le.Uint32(f[36:])), le.Uint64(f[132:])},
	} {
		if c.got != c.want {
			t.Errorf("FADT %s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

func checkDSDTAndFACS(t *testing.T, ram acpi.Segments, f []byte) {
	t.Helper()
	le := binary.LittleEndian
	hdr, ok := ram.Bytes(le.Uint64(f[140:]), 36)
	if !ok || string(hdr[:4]) != "DSDT" {
		t.Fatalf("X_DSDT %#x does not point at a DSDT", le.Uint64(f[140:]))
	}
	dsdt, _ := ram.Bytes(le.Uint64(f[140:]), uint64(le.Uint32(hdr[4:])))
	var sum byte
	for _, b := range dsdt {
		sum += b
	}
	if sum != 0 {
		t.Errorf("DSDT checksum: bytes add up to %#x", sum)
	}
	if !strings.Contains(string(dsdt[36:]), "_S5_") {
		t.Errorf("DSDT has no \\_S5 object: % x", dsdt[36:])
	}
	facs, ok := ram.Bytes(le.Uint64(f[132:]), 64)
	if !ok || string(facs[:4]) != "FACS" || le.Uint32(facs[4:]) != 64 {
		t.Errorf("X_FIRMWARE_CTRL %#x does not point at a 64-byte FACS", le.Uint64(f[132:]))
	}
}
