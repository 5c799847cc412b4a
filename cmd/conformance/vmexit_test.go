package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFigures(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []figure
	}{
		{"cpuid", "enabling apic\nsmp: waiting for 0 APs\ncr4 = 20\ncpuid 69712\n", []figure{{Kind: "cpuid", Cycles: 69712}}},
		{"crlf", "vmcall 212000\r\n", []figure{{Kind: "vmcall", Cycles: 212000}}},
		{"ipi-parts", "self_ipi_tpr 9000\n  ipi self_ipi_tpr 1234\n  eoi self_ipi_tpr 567\n",
			[]figure{{Kind: "self_ipi_tpr", Cycles: 9000}, {Kind: "self_ipi_tpr/ipi", Cycles: 1234}, {Kind: "self_ipi_tpr/eoi", Cycles: 567}}},
		{"skipped", "tscdeadline (skipped)\n", []figure{{Kind: "tscdeadline", Skipped: true}}},
		{"negative", "ipi -2147483000\n", []figure{{Kind: "ipi", Cycles: -2147483000}}},
		{"pci-names", "pci-mem 800\n", []figure{{Kind: "pci-mem", Cycles: 800}}},
		{"not-figures", "PM timer port is 608\npaging enabled\nsmp: waiting for 1 APs\nSUMMARY: 1 tests\ncpuid\n cpuid 5\n  foo cpuid 6\n",
			nil},
		{"too-long", "cpuid 1234567890123456789\n", nil},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseFigures(tc.out); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseFigures(%q) = %+v, want %+v", tc.out, got, tc.want)
			}
		})
	}
}

// FuzzParseFigures: any output parses; every figure has a kind, and only
// skipped ones have no cycles.
func FuzzParseFigures(f *testing.F) {
	f.Add("cpuid 69712\n  ipi ipi 5\ntscdeadline (skipped)\n")
	f.Add("(d1) cpuid 1\r\nx -99999999999999999\n")
	f.Fuzz(func(t *testing.T, out string) {
		for _, fig := range parseFigures(out) {
			if fig.Kind == "" || fig.Skipped && fig.Cycles != 0 || strings.ContainsAny(fig.Kind, " \n") {
				t.Fatalf("figure %+v from %q", fig, out)
			}
		}
	})
}

// TestVMExitRows: three sides, a figure missing from each in turn, a
// test nobody measured, and the peer not run at all.
func TestVMExitRows(t *testing.T) {
	passed := func(out string) result { return result{Status: pass, Out: out} }
	rows := []row{
		{Test: "vmexit_cpuid", Ran: true, Direct: passed("cpuid 200\n"), Grove: passed("cpuid 60000\n")},
		{Test: "vmexit_vmcall", Ran: true, Direct: result{Status: fail, Out: "Unhandled exception 6 #UD(0) at ip 0000000000400893\n"},
			Grove: passed("vmcall 50000\n")},
		{Test: "vmexit_tscdeadline", Ran: true, Direct: passed("tscdeadline (skipped)\n"),
			Grove: passed("tscdeadline 700000\n  eoi tscdeadline 200000\n")},
		{Test: "vmexit_ipi", Ran: true, Direct: result{Status: fail, Why: "timeout; duration=1m30s"}, Grove: result{Status: fail, Why: "crashed: x"}},
		{Test: "sieve", Ran: true, Direct: passed("cpuid 1\n"), Grove: passed("")},
		{Test: "vmexit_skipped", Direct: result{Status: skip}},
	}
	kvm := map[string]result{
		"vmexit_cpuid":       {Status: pass, Out: "cpuid 70000\n", Retry: "hung"},
		"vmexit_vmcall":      passed("vmcall 200000\n"),
		"vmexit_tscdeadline": passed("tscdeadline 600000\n  eoi tscdeadline 300000\n"),
		"vmexit_ipi":         {Status: fail, Why: "QEMU did not start: exec: no such file"},
	}
	got := vmexitRows(rows, kvm, "")
	want := []exitRow{
		{"vmexit_cpuid", "cpuid", cell{60000, true, ""}, cell{70000, true, "retried: hung"}, cell{200, true, ""}},
		{"vmexit_vmcall", "vmcall", cell{50000, true, ""}, cell{200000, true, ""}, cell{Why: "FAIL (Unhandled exception 6 #UD(0))"}},
		{"vmexit_tscdeadline", "tscdeadline", cell{700000, true, ""}, cell{600000, true, ""}, cell{Why: "skipped by the test"}},
		{"vmexit_tscdeadline", "tscdeadline/eoi", cell{200000, true, ""}, cell{300000, true, ""}, cell{Why: "skipped by the test"}},
		{"vmexit_ipi", "", cell{Why: "FAIL crashed: x"}, cell{Why: "FAIL QEMU did not start: exec: no such file"},
			cell{Why: "FAIL timeout; duration=1m30s"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows\n got %+v\nwant %+v", got, want)
	}
	if r, ok := got[0].ratio(); !ok || r < 0.857 || r > 0.858 {
		t.Errorf("cpuid ratio %v %v", r, ok)
	}
	if got[0].note() != "kvm: retried: hung" {
		t.Errorf("note %q", got[0].note())
	}
	none := vmexitRows(rows[:1], nil, "not run (-kvm-peer=false)")
	if none[0].KVM.OK || none[0].KVM.Why != "FAIL KVM peer not run (-kvm-peer=false)" {
		t.Errorf("without the peer: %+v", none[0].KVM)
	}
	if _, ok := none[0].ratio(); ok {
		t.Error("a ratio without KVM's figure")
	}
}

func TestExitReport(t *testing.T) {
	rows := []exitRow{
		{"vmexit_cpuid", "cpuid", cell{60000, true, ""}, cell{70000, true, ""}, cell{200, true, ""}},
		{"vmexit_ipi", "", cell{Why: "FAIL crashed: a|b"}, cell{Why: "FAIL x"}, cell{Why: "FAIL y"}},
	}
	var table, md, csv bytes.Buffer
	writeExitTable(&table, rows)
	writeExitMarkdown(&md, rows)
	writeExitCSV(&csv, rows)
	for _, c := range []struct {
		name, text, want string
	}{
		{"table", table.String(), "cpuid         60000  70000       0.86       200"},
		{"table", table.String(), "(vmexit_ipi)  -      -           -          -           grove: FAIL crashed: a|b; kvm: FAIL x; direct: FAIL y"},
		{"markdown", md.String(), "| cpuid | 60000 | 70000 | 0.86 | 200 |  |"},
		{"markdown", md.String(), `| (vmexit_ipi) | - | - | - | - | grove: FAIL crashed: a\|b; kvm: FAIL x; direct: FAIL y |`},
		{"csv", csv.String(), "vmexit_cpuid,cpuid,60000,70000,0.86,200,\n"},
		{"csv", csv.String(), "vmexit_ipi,,,,,,grove: FAIL crashed: a|b; kvm: FAIL x; direct: FAIL y\n"},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s lacks %q:\n%s", c.name, c.want, c.text)
		}
	}
}

// TestDomainOutput: the Grove side's output is its domain's lines, the
// prompt and Grove's own lines left out.
func TestDomainOutput(t *testing.T) {
	console := "grove: created d1 (vmexit-cpuid)\ngrove> (d1) enabling apic\n(d1) cpuid 806839\r\n(d1) exited with status 0\n"
	if got, want := domainOutput(console), "enabling apic\ncpuid 806839\r\nexited with status 0\n"; got != want {
		t.Errorf("domainOutput = %q, want %q", got, want)
	}
	res := watchGrove(strings.NewReader(console), time.Minute, time.Minute)
	if figs := parseFigures(res.Out); len(figs) != 1 || figs[0] != (figure{Kind: "cpuid", Cycles: 806839}) {
		t.Errorf("figures %+v from %q", figs, res.Out)
	}
}

// TestExtraVMExitTests: the port I/O kinds come from vmexit_cpuid's
// entry, except those the cfg has; without vmexit_cpuid there are none.
func TestExtraVMExitTests(t *testing.T) {
	cpuid := unittest{Name: "vmexit_cpuid", File: "vmexit.flat", TestArgs: "'cpuid'", Groups: []string{"vmexit"}}
	for _, tc := range []struct {
		name string
		cfg  []unittest
		want []string
	}{
		{"all", []unittest{{Name: "sieve"}, cpuid}, []string{"vmexit_inl_from_qemu inl_from_qemu", "vmexit_inl_from_kernel inl_from_kernel",
			"vmexit_outl_to_kernel outl_to_kernel"}},
		{"cfg-has-one", []unittest{cpuid, {Name: "vmexit_inl_from_kernel"}}, []string{"vmexit_inl_from_qemu inl_from_qemu",
			"vmexit_outl_to_kernel outl_to_kernel"}},
		{"no-vmexit", []unittest{{Name: "sieve"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, u := range extraVMExitTests(tc.cfg) {
				if u.File != "vmexit.flat" || len(u.Groups) != 1 || u.Groups[0] != "vmexit" {
					t.Errorf("%+v", u)
				}
				got = append(got, u.Name+" "+u.TestArgs)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestExitTableRun runs the runner with a fake QEMU that prints figures:
// the exit table has the cfg's kind and the extra ones, the main table
// only the cfg's test, and the KVM column says the peer is off.
func TestExitTableRun(t *testing.T) {
	kut := t.TempDir()
	os.MkdirAll(filepath.Join(kut, "x86"), 0o755)
	os.WriteFile(filepath.Join(kut, "x86", "unittests.cfg"),
		[]byte("[vmexit_cpuid]\nfile = vmexit.flat\ntest_args = 'cpuid'\ngroups = vmexit\n"), 0o644)
	os.WriteFile(filepath.Join(kut, "x86", "vmexit.flat"), []byte("kernel"), 0o644)
	qemu := filepath.Join(t.TempDir(), "qemu")
	os.WriteFile(qemu, []byte(`#!/bin/sh
case "$*" in
*grove.elf*) echo "grove: created d1 (t)"; echo "grove> (d1) cpuid 60000"; echo "(d1) exited with status 0"; sleep 5 ;;
*--version*) echo "QEMU emulator version 9.9.9" ;;
*) while [ "$1" != -append ]; do shift; done; echo "$2 200"; echo "SUMMARY: 1 tests"; exit 1 ;;
esac
`), 0o755)
	image := filepath.Join(t.TempDir(), "grove.elf")
	os.WriteFile(image, []byte("image"), 0o644)
	outDir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run([]string{"-kut", kut, "-image", image, "-qemu", qemu, "-out", outDir, "-kvm-peer=false"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	table, exits, _ := strings.Cut(out.String(), "Cycles per exit")
	for _, c := range []struct {
		text, want string
		in         bool
	}{
		{table, "1 tests from", true},
		{table, " and 3 more vmexit kinds for the exit table, each", true},
		{table, "vmexit_cpuid  PASS    PASS", true},
		{table, "vmexit_inl_from_qemu  PASS", false},
		{exits, "cpuid            60000  -           -          200         kvm: FAIL KVM peer not run (-kvm-peer=false)", true},
		{exits, "inl_from_kernel  -      -           -          200", true},
	} {
		if strings.Contains(c.text, c.want) != c.in {
			t.Errorf("contains %q = %v:\n%s", c.want, !c.in, out.String())
		}
	}
	csv, err := os.ReadFile(filepath.Join(outDir, "vmexit.csv"))
	if err != nil || !strings.Contains(string(csv), "vmexit_outl_to_kernel,outl_to_kernel,,,,200,") {
		t.Errorf("vmexit.csv: %v\n%s", err, csv)
	}
}
