package acpi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// How a QEMU test presents Grove with bad or missing ACPI tables (QEMU 7.2,
// SeaBIOS 1.16, q35; checked by TestQEMUFirmwareTables, which boots no
// kernel and reads the tables back from guest RAM):
//
//   - Default q35: SeaBIOS writes an ACPI 1.0 RSDP (revision 0, RSDT only,
//     no XSDT) at 0xF59E0 and the tables near the top of RAM: FACP, APIC,
//     HPET, MCFG, WAET; the MADT is 144 bytes with -smp 4.
//   - `-machine q35,acpi=off` and `-no-acpi` (both accepted by 7.2) do NOT
//     give a machine without ACPI: QEMU stops offering its tables, and
//     SeaBIOS then builds its own legacy ones (FACP, SSDT, APIC with every
//     CPU, HPET, MCFG) with an RSDP in the F segment.
//   - No ACPI at all: `-machine pc,acpi=off` (i440fx). QEMU then creates no
//     PIIX4 power-management device, and SeaBIOS builds no legacy tables
//     without one: no RSDP anywhere (ErrNoRSDP). With q35 there is no way:
//     its ICH9 LPC is always there, and even an etc/table-loader that runs
//     cleanly but installs no RSDP still gets SeaBIOS's legacy tables.
//   - Corrupt MADT: `-acpitable file=` cannot do it. QEMU rewrites the
//     checksum of a table given that way, and lists it after its own tables,
//     so a second "APIC" is never the first one found. Instead hand SeaBIOS
//     complete tables: Builder.QEMULoader() gives three files, and
//     `-machine q35,acpi=off -fw_cfg name=etc/acpi/rsdp,file=R
//     -fw_cfg name=etc/acpi/tables,file=T -fw_cfg name=etc/table-loader,file=L`
//     installs them; the loader fixes only the RSDP's and root table's
//     checksums, so a MADT corrupted before QEMULoader (e.g. one byte of an
//     entry changed) reaches Grove as ErrMADTChecksum, and RawEntries{{0, 0}}
//     with a correct checksum as ErrMADTEntryLength. QEMU warns that fw_cfg
//     names should start with "opt/"; it is only a warning.
//   - `-kernel` with a PVH image adds nothing: QEMU's pvh.bin option ROM
//     finds the RSDP by the same BIOS scan and passes it as rsdp_paddr.

// The real tables of `qemu-system-x86_64 -machine q35 -cpu max -smp 4 -m
// 128M` (QEMU 7.2.22, SeaBIOS), extracted from a pmemsave of guest RAM by
// GROVE_ACPI_QEMU=1 GROVE_ACPI_WRITE=1 go test -run TestQEMUFirmwareTables.
const qemuTables = "testdata/qemu-q35-smp4.seg"

func TestQEMUTables(t *testing.T) {
	mem := inLowMem(readSegments(t, qemuTables))
	rsdp, err := FindRSDP(mem, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rsdp.Addr != 0xF59E0 || rsdp.Revision != 0 || rsdp.UsesXSDT() {
		t.Errorf("RSDP %+v: want SeaBIOS's ACPI 1.0 RSDP at 0xF59E0", rsdp)
	}
	topo, err := ParseMADT(mem, rsdp)
	if err != nil {
		t.Fatal(err)
	}
	checkQEMUTopology(t, &topo, 4)
	if _, err := FindTable(mem, rsdp, [4]byte{'F', 'A', 'C', 'P'}, 0); err != nil {
		t.Errorf("FADT: %v", err)
	}
}

// readSegments reads records of address (8 bytes), length (4), data.
func readSegments(t testing.TB, path string) Segments {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s Segments
	for len(b) > 0 {
		if len(b) < 12 || uint64(len(b)-12) < uint64(binary.LittleEndian.Uint32(b[8:])) {
			t.Fatalf("%s: truncated record", path)
		}
		n := binary.LittleEndian.Uint32(b[8:])
		s = append(s, Segment{binary.LittleEndian.Uint64(b), b[12 : 12+n]})
		b = b[12+n:]
	}
	return s
}

// inLowMem copies the records below 1 MiB into one zeroed first MiB, so the
// BIOS scan, which asks for the whole ROM area at once, can read it.
func inLowMem(recs Segments) Segments {
	low := make([]byte, lowMemSize)
	out := Segments{{0, low}}
	for _, r := range recs {
		if r.Addr+uint64(len(r.Data)) <= lowMemSize {
			copy(low[r.Addr:], r.Data)
		} else {
			out = append(out, r)
		}
	}
	return out
}

// tableRecords returns the BDA's EBDA pointer, the RSDP, the root table and
// every table it lists, as records for readSegments.
func tableRecords(t testing.TB, mem Memory, rsdp RSDP) []byte {
	var out bytes.Buffer
	add := func(pa, n uint64) {
		b, ok := mem.Bytes(pa, n)
		if !ok {
			t.Fatalf("%#x+%d outside the dump", pa, n)
		}
		binary.Write(&out, binary.LittleEndian, pa)
		binary.Write(&out, binary.LittleEndian, uint32(n))
		out.Write(b)
	}
	add(ebdaPointer, 2)
	add(rsdp.Addr, map[bool]uint64{false: rsdpV2Len, true: rsdpV1Len}[rsdp.Revision < 2])
	rt, err := readRoot(mem, &rsdp)
	if err != nil {
		t.Fatal(err)
	}
	if rsdp.UsesXSDT() {
		add(rsdp.XSDTAddr, headerLen+uint64(len(rt.entries)))
	} else {
		add(uint64(rsdp.RSDTAddr), headerLen+uint64(len(rt.entries)))
	}
	for i := range rt.count() {
		h, _ := mem.Bytes(rt.entry(i), headerLen)
		add(rt.entry(i), uint64(binary.LittleEndian.Uint32(h[hdrLengthOff:])))
	}
	return out.Bytes()
}

// TestQEMUFirmwareTables boots QEMU with no kernel in each way a Grove test
// may want, dumps guest RAM once the firmware is done, and checks what the
// parser finds there. It takes about 10 s a case, so it runs only when
// GROVE_ACPI_QEMU=1 asks for it; it documents the comment above.
func TestQEMUFirmwareTables(t *testing.T) {
	if os.Getenv("GROVE_ACPI_QEMU") != "1" {
		t.Skip("set GROVE_ACPI_QEMU=1 to boot QEMU and read its firmware's tables")
	}
	dir := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		err   error
		cpus  int
		rev   uint8 // of the RSDP: SeaBIOS's own are ACPI 1.0
		write bool
	}{
		{name: "default", cpus: 4, write: true},
		{name: "acpi=off", args: []string{"-machine", "q35,acpi=off"}, cpus: 4},
		{name: "-no-acpi", args: []string{"-no-acpi"}, cpus: 4},
		{name: "no tables", args: []string{"-machine", "pc,acpi=off"}, err: ErrNoRSDP},
		{name: "loader good", args: loaderArgs(t, dir, "good", qemuShape(2), nil), cpus: 2, rev: 2},
		{name: "loader MADT checksum bad", args: loaderArgs(t, dir, "badsum", qemuShape(2), corruptMADT), err: ErrMADTChecksum},
		{name: "loader MADT entry length 0", args: loaderArgs(t, dir, "len0", withEntry(0, 0), nil), err: ErrMADTEntryLength},
		{name: "acpitable second APIC", args: []string{"-acpitable", "file=" + writeFile(t, dir, "apic.bin", NewTable("APIC", 3, "BAD", []byte{0, 0, 0xe0, 0xfe, 1, 0, 0, 0, 0, 0}))}, cpus: 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := qemuRAM(t, dir, tc.args)
			rsdp, err := FindRSDP(mem, 0)
			if err == nil && tc.write && os.Getenv("GROVE_ACPI_WRITE") == "1" {
				if err := os.WriteFile(qemuTables, tableRecords(t, mem, rsdp), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			topo, err := findAndParse(mem, 0)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && (topo.NumCPUs != tc.cpus || rsdp.Revision != tc.rev) {
				t.Fatalf("%d CPUs RSDP revision %d, want %d, %d", topo.NumCPUs, rsdp.Revision, tc.cpus, tc.rev)
			}
			t.Logf("RSDP %+v: %d CPUs, err %v", rsdp, topo.NumCPUs, err)
		})
	}
}

func withEntry(e ...byte) Builder {
	b := qemuShape(2)
	b.RawEntries = [][]byte{e}
	return b
}

// corruptMADT changes one byte of the MADT (its first entry's flags) after
// its checksum was computed.
func corruptMADT(tables []byte) {
	i := bytes.Index(tables, []byte("APIC"))
	tables[i+madtEntriesOff+4] ^= 0x80
}

// loaderArgs writes b as the firmware's fw_cfg table files and returns the
// QEMU options that hand them over.
func loaderArgs(t *testing.T, dir, name string, b Builder, corrupt func([]byte)) []string {
	rsdp, tables, loader, err := b.QEMULoader()
	if err != nil {
		t.Fatal(err)
	}
	if corrupt != nil {
		corrupt(tables)
	}
	return []string{"-machine", "q35,acpi=off",
		"-fw_cfg", "name=" + LoaderRSDPFile + ",file=" + writeFile(t, dir, name+".rsdp", rsdp),
		"-fw_cfg", "name=" + LoaderTablesFile + ",file=" + writeFile(t, dir, name+".tables", tables),
		"-fw_cfg", "name=" + LoaderFile + ",file=" + writeFile(t, dir, name+".loader", loader)}
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// qemuRAM runs QEMU (no kernel, no disk: SeaBIOS sets up ACPI, then finds
// nothing to boot), saves its 128 MiB of RAM through the monitor and returns
// it as fake memory.
func qemuRAM(t *testing.T, dir string, extra []string) Segments {
	const ram = 128 << 20
	dump := filepath.Join(dir, "ram.dump")
	args := append([]string{"-machine", "q35", "-cpu", "max", "-smp", "4", "-m", "128M",
		"-display", "none", "-nodefaults", "-monitor", "stdio"}, extra...)
	cmd := exec.Command("qemu-system-x86_64", args...)
	t.Logf("qemu-system-x86_64 %q", args)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // SeaBIOS needs well under a second under TCG
	fmt.Fprintf(in, "pmemsave 0 %d \"%s\"\n", ram, dump)
	time.Sleep(3 * time.Second)
	io.WriteString(in, "quit\n")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("qemu: %v\n%s", err, out.String())
	}
	b, err := os.ReadFile(dump)
	if err != nil || len(b) != ram {
		t.Fatalf("dump: %v (%d bytes)\n%s", err, len(b), out.String())
	}
	return Segments{{0, b}}
}
