package qemu

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"grove/acpi"
)

// Grove on several CPUs: how many come up, the cpus= limit, and what a
// broken, lying or missing MADT does. Each run selects only the kernel's
// SMP self-tests (selftest=kernel/smp-), or on four CPUs, where those take
// 10 s, just the one that pins a thread to every CPU; the full suite runs
// on the default two CPUs in TestSelftest.

const (
	smpSelftests   = "selftest=kernel/smp-"
	everyCPUFilter = "selftest=kernel/smp-every-cpu"
)

// The self-tests each filter must see pass.
var (
	smpSelftestNames = []string{"kernel/smp-every-cpu", "kernel/smp-spread", "kernel/smp-futex-wake",
		"kernel/smp-tlb-shootdown", "kernel/smp-gc-parallel", "kernel/smp-recover-on-each-cpu",
		"kernel/smp-membarrier"}
	everyCPUName = []string{"kernel/smp-every-cpu"}
)

// onlineLine is the boot log's CPU line for the given APIC ids.
func onlineLine(ids ...int) string {
	s := fmt.Sprintf("cpu: %d online (apic ids", len(ids))
	for _, id := range ids {
		s += " " + strconv.Itoa(id)
	}
	return s + ")"
}

func seq(n int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// selftestsPass waits for the self-tests' summary and exit status 33, and
// checks that each named test passed and that the summary counts as many
// passes as the log shows (the filter may select tests added later).
func selftestsPass(t *testing.T, r *Run, names []string) {
	t.Helper()
	out := r.Expect("selftest: ", 2*time.Minute)
	out += r.Expect(" failed", 5*time.Second)
	r.WantStatus(StatusSuccess)
	m := regexp.MustCompile(`selftest: (\d+) passed, 0 failed`).FindStringSubmatch(out)
	if oks := strings.Count(r.All(), "\nok   "); m == nil || m[1] != strconv.Itoa(oks) || oks < len(names) {
		t.Fatalf("want %d or more passed (one per ok line), 0 failed in:\n%s", len(names), r.Serial())
	}
	for _, name := range names {
		if !strings.Contains(r.All(), "ok   "+name) {
			t.Errorf("%s did not pass:\n%s", name, r.Serial())
		}
	}
}

func TestSMPBoot(t *testing.T) {
	im := Build(t)
	for _, n := range []int{1, 2, 4} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			r := Start(t, "smp"+strconv.Itoa(n), Boot{Accel: MultiAccel, Kernel: im.Grove, Append: smpSelftests,
				Args: []string{"-smp", strconv.Itoa(n)}})
			r.Expect(onlineLine(seq(n)...), 30*time.Second)
			selftestsPass(t, r, smpSelftestNames)
			if strings.Contains(r.All(), "did not start") {
				t.Errorf("a CPU QEMU has failed to start:\n%s", r.Serial())
			}
		})
	}
}

func TestCPUsLimit(t *testing.T) {
	im := Build(t)
	const ignoring = "cpu: ignoring cpus=%s (want a number of CPUs, at least 1)"
	for _, tc := range []struct {
		value  string
		online int
		notice bool // the value is reported as ignored
	}{
		{"1", 1, false},
		{"2", 2, false},
		{"0", 4, true},
		{"abc", 4, true},
		{"9999999", 4, true}, // more digits than the parser reads
	} {
		t.Run("cpus="+tc.value, func(t *testing.T) {
			r := Start(t, "cpus", Boot{Accel: MultiAccel, Kernel: im.Grove, Append: "cpus=" + tc.value + " " + everyCPUFilter,
				Args: []string{"-smp", "4"}})
			if tc.notice {
				r.Expect(fmt.Sprintf(ignoring, tc.value), 30*time.Second)
			}
			r.Expect(onlineLine(seq(tc.online)...), 30*time.Second)
			selftestsPass(t, r, everyCPUName)
			if !tc.notice && strings.Contains(r.All(), "cpu: ignoring") {
				t.Errorf("cpus=%s reported as ignored:\n%s", tc.value, r.Serial())
			}
		})
	}
}

// TestBadACPI hands Grove MADTs that are corrupt, that list CPUs QEMU does
// not have, or no ACPI tables at all. acpi/qemu_test.go says how: QEMU's own
// tables off (acpi=off) and the firmware given ours through fw_cfg, whose
// loader fixes only the RSDP's and root table's checksums; with the pc
// machine and acpi=off SeaBIOS builds none. Grove must name the problem and
// run on the CPUs it could start.
func TestBadACPI(t *testing.T) {
	im := Build(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		smp    int
		args   []string
		want   []string
		online int
	}{
		{"valid tables", 2, loaderArgs(t, dir, "good", madtWithCPUs(0, 1), nil),
			nil, 2},
		{"MADT checksum bad", 2, loaderArgs(t, dir, "badsum", madtWithCPUs(0, 1), corruptMADT),
			[]string{"acpi: MADT checksum bad, running on the boot CPU only"}, 1},
		{"MADT entry length 0", 2, loaderArgs(t, dir, "len0", withRawEntry(madtWithCPUs(0, 1), 0, 0), nil),
			[]string{"acpi: MADT entry length bad, running on the boot CPU only"}, 1},
		{"MADT lists absent CPUs", 2, loaderArgs(t, dir, "lying", madtWithCPUs(0, 1, 2, 3), nil),
			[]string{"cpu: apic id 2 did not start within 3s, skipped", "cpu: apic id 3 did not start within 3s, skipped"}, 2},
		{"no ACPI", 2, []string{"-machine", "pc,acpi=off"},
			[]string{"acpi: no RSDP found, running on the boot CPU only"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-smp", strconv.Itoa(tc.smp)}, tc.args...)
			r := Start(t, "badacpi", Boot{Accel: MultiAccel, Kernel: im.Grove, Append: smpSelftests, Args: args})
			for _, w := range tc.want {
				r.Expect(w, 30*time.Second)
			}
			r.Expect(onlineLine(seq(tc.online)...), 30*time.Second)
			selftestsPass(t, r, smpSelftestNames)
			if len(tc.want) == 0 && strings.Contains(r.All(), "acpi: ") {
				t.Errorf("valid tables reported as bad:\n%s", r.Serial())
			}
		})
	}
}

// madtWithCPUs is a MADT shaped like SeaBIOS's for q35 (acpi/qemu_test.go)
// listing enabled local APICs with the given ids.
func madtWithCPUs(ids ...uint32) acpi.Builder {
	b := acpi.Builder{PCATCompat: true, OEMID: "GROVE",
		IOAPICs:   []acpi.IOAPIC{{ID: 0, Addr: 0xFEC00000}},
		Overrides: []acpi.Override{{Source: 0, GSI: 2}},
		NMIs:      []acpi.NMI{{UID: acpi.AllProcessors, LINT: 1}}}
	for _, irq := range []uint8{5, 9, 10, 11} { // PCI interrupts: level, active high
		b.Overrides = append(b.Overrides, acpi.Override{Source: irq, GSI: uint32(irq), Flags: 0xd})
	}
	for _, id := range ids {
		b.CPUs = append(b.CPUs, acpi.LocalAPIC{ID: id, UID: id, Flags: acpi.LAPICEnabled})
	}
	return b
}

func withRawEntry(b acpi.Builder, e ...byte) acpi.Builder {
	b.RawEntries = append(b.RawEntries, e)
	return b
}

// madtOEMTableID is where the OEM Table ID, 8 bytes, sits in an ACPI table
// header (ACPI 6.5 §5.2.6): nothing Grove reads but the checksum covers it.
const madtOEMTableID = 16

// corruptMADT changes one byte of the MADT after its checksum was computed.
func corruptMADT(tables []byte) {
	i := bytes.Index(tables, []byte("APIC"))
	tables[i+madtOEMTableID] ^= 0xff
}

// loaderArgs writes b as the firmware's three fw_cfg table files, corrupt
// applied to the tables file, and returns the QEMU options that install
// them in place of QEMU's own tables.
func loaderArgs(t *testing.T, dir, name string, b acpi.Builder, corrupt func([]byte)) []string {
	rsdp, tables, loader, err := b.QEMULoader()
	if err != nil {
		t.Fatal(err)
	}
	if corrupt != nil {
		corrupt(tables)
	}
	file := func(suffix string, data []byte) string {
		p := filepath.Join(dir, name+suffix)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return []string{"-machine", "q35,acpi=off",
		"-fw_cfg", "name=" + acpi.LoaderRSDPFile + ",file=" + file(".rsdp", rsdp),
		"-fw_cfg", "name=" + acpi.LoaderTablesFile + ",file=" + file(".tables", tables),
		"-fw_cfg", "name=" + acpi.LoaderFile + ",file=" + file(".loader", loader)}
}
