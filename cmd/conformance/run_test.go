package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClassifyDirect(t *testing.T) {
	const sum = "SUMMARY: 3 tests, 1 unexpected failures\n"
	for _, tc := range []struct {
		name            string
		timedOut        bool
		code            int
		out, errOut     string
		status, because string
	}{
		{"pass", false, 1, "hello\nSUMMARY: 2 tests\n", "", pass, "(2 tests)"},
		{"pass-with-warning", false, 1, "x\n", "qemu-system-x86_64: warning: host doesn't support feature\n", pass, ""},
		{"fail", false, 3, sum, "", fail, "(3 tests, 1 unexpected failures)"},
		{"skip", false, 77, "SUMMARY: 1 tests, 1 skipped\n", "", skip, "(1 tests, 1 skipped)"},
		{"timeout", true, -1, "", "", fail, "timeout; duration=1m30s"},
		{"refused", false, 1, "", "qemu-system-x86_64: CPU model 'host' requires KVM or HVF\n", skip, "qemu-system-x86_64: CPU model 'host' requires KVM or HVF"},
		{"no-exit-port", false, 0, "booted\n", "", fail, "no exit status (QEMU ended without isa-debug-exit)"},
		{"pass-but-stderr", false, 1, "a\nb\n", "qemu: something broke\n", fail, "qemu: something broke"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, why := classifyDirect(tc.timedOut, tc.code, tc.out, tc.errOut, DefaultTimeout)
			if st != tc.status || why != tc.because {
				t.Errorf("got %s %q, want %s %q", st, why, tc.status, tc.because)
			}
		})
	}
}

// TestWatchGrove feeds Grove console transcripts (the lines cmd/grove and
// hv print) to the watcher.
func TestWatchGrove(t *testing.T) {
	boot := "grove: kernel starting\ngrove: boot bundle (module 0): 1 domains\ngrove: created d1 (sieve)\n"
	for _, tc := range []struct {
		name, console   string
		limit           time.Duration
		status, because string
	}{
		{"pass", boot + "(d1) SUMMARY: 7 tests\n(d1) exited with status 0\n", time.Minute, pass, "(7 tests)"},
		{"fail", boot + "(d1) SUMMARY: 7 tests, 2 unexpected failures\n(d1) exited with status 1\n", time.Minute, fail,
			"status 1 (7 tests, 2 unexpected failures)"},
		{"skip", boot + "grove> (d1) SUMMARY: 1 tests, 1 skipped\r\n(d1) exited with status 38\n", time.Minute, skip, "(1 tests, 1 skipped)"},
		{"crash", boot + "(d1) crashed: triple fault at rip=0x1000\n", time.Minute, fail, "crashed: triple fault at rip=0x1000"},
		{"poweroff", boot + "(d1) shut down (ACPI power off)\n", time.Minute, fail, "shut down (ACPI power off)"},
		{"refused", "grove: grove.toml: domain \"t\": domain \"t\": 17 vCPUs out of range\n", time.Minute, fail,
			"refused: grove.toml: domain \"t\": domain \"t\": 17 vCPUs out of range"},
		{"qemu-died", boot, time.Minute, fail, "QEMU ended before the domain did"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := watchGrove(strings.NewReader(tc.console), tc.limit, time.Minute)
			if res.Status != tc.status || res.Why != tc.because {
				t.Errorf("got %s %q, want %s %q", res.Status, res.Why, tc.status, tc.because)
			}
		})
	}
}

// TestWatchGroveTimeout: the limit counts from the domain's creation.
func TestWatchGroveTimeout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString("grove: created d1 (t)\n(d1) working\n")
	start := time.Now()
	res := watchGrove(r, 200*time.Millisecond, time.Minute)
	if res.Status != fail || res.Why != "timeout; duration=200ms" || time.Since(start) < 200*time.Millisecond {
		t.Errorf("got %+v after %v", res, time.Since(start))
	}
}

func TestReport(t *testing.T) {
	rows := []row{
		{Test: "a", Ran: true, Direct: result{Status: pass, Time: time.Second}, Grove: result{Status: pass, Time: 2 * time.Second}},
		{Test: "b", Ran: true, Direct: result{Status: pass}, Grove: result{Status: fail, Why: "crashed: x"}},
		{Test: "intel_iommu", Ran: true, Direct: result{Status: pass}, Grove: result{Status: fail}, Known: known["intel_iommu"]},
		{Test: "c", Ran: true, Direct: result{Status: fail, Why: "(1 tests, 1 unexpected failures)"}, Grove: result{Status: fail}},
		{Test: "d", Direct: result{Status: skip, Why: "i386 only"}, Grove: result{Status: skip, Why: "i386 only"}},
	}
	c := count(rows)
	if c != (counts{Tests: 5, DirectPass: 3, GrovePass: 1, BothPass: 1, Regressions: 1, Known: 1, DirectFail: 1, DirectSkip: 1}) {
		t.Fatalf("counts %+v", c)
	}
	var table, md, csv bytes.Buffer
	writeTable(&table, rows)
	writeMarkdown(&md, rows, "header")
	writeCSV(&csv, rows)
	for _, want := range []string{"b            PASS    FAIL !", "grove: crashed: x", "direct: i386 only"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	for _, want := range []string{"| b | PASS | **FAIL** |", "* `intel_iommu`: needs QEMU's intel-iommu", "3 pass directly"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if !strings.Contains(csv.String(), "a,PASS,PASS,1.00,2.00,,,,\n") {
		t.Errorf("csv:\n%s", csv.String())
	}
}

// TestExitCodes: no suite is exit 2 with the message; a missing image
// too; a regression is 1 (made with a fake QEMU that passes every direct
// run and crashes every Grove one).
func TestExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	t.Setenv("KUT", "")
	if code := run(nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "make conformance KUT=DIR") {
		t.Fatalf("no KUT: exit %d\n%s", code, errOut.String())
	}
	kut := t.TempDir()
	os.MkdirAll(filepath.Join(kut, "x86"), 0o755)
	os.WriteFile(filepath.Join(kut, "x86", "unittests.cfg"), []byte("[t]\nfile = t.flat\n[u]\nfile = t.flat\narch = i386\n"), 0o644)
	os.WriteFile(filepath.Join(kut, "x86", "t.flat"), []byte("kernel"), 0o644)
	errOut.Reset()
	if code := run([]string{"-kut", kut, "-image", "/nonexistent"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "make image") {
		t.Fatalf("no image: exit %d\n%s", code, errOut.String())
	}
	qemu := filepath.Join(t.TempDir(), "qemu")
	os.WriteFile(qemu, []byte(`#!/bin/sh
case "$*" in
*grove.elf*) echo "grove: created d1 (t)"; echo "(d1) crashed: triple fault at rip=0x0"; sleep 5 ;;
*--version*) echo "QEMU emulator version 9.9.9" ;;
*) echo "SUMMARY: 1 tests"; exit 1 ;;
esac
`), 0o755)
	image := filepath.Join(t.TempDir(), "grove.elf")
	os.WriteFile(image, []byte("image"), 0o644)
	outDir := t.TempDir()
	out.Reset()
	errOut.Reset()
	code := run([]string{"-kut", kut, "-image", image, "-qemu", qemu, "-out", outDir}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "t     PASS    FAIL !") || !strings.Contains(out.String(), "u     SKIP") ||
		!strings.Contains(errOut.String(), "1 tests pass directly but not under Grove") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, f := range []string{"results.csv", "results.md", "logs/t.direct.log", "logs/t.grove.log"} {
		if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
			t.Error(err)
		}
	}
}
