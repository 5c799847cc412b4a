package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildProbe links boot/image's test program like Grove's kernel is linked.
func buildProbe(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("../../boot/image/testdata/bootprobe")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "probe.elf")
	cmd := exec.Command("go", "build", "-ldflags=-T 0x200000 -R 0x1000", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOWORK=off", "GOFLAGS=")
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build bootprobe: %v\n%s", err, log)
	}
	return out
}

func TestRun(t *testing.T) {
	in := buildProbe(t)
	dir := t.TempDir()
	syms := []string{"-entry", "main.entry64", "-pagetables", "main.bootPageTables"}
	out := filepath.Join(dir, "grove.elf")
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout when code is 0, else in stderr
	}{
		{"default", append(syms, "-o", out, in), 0, "groveimg: multiboot,multiboot2,pvh: multiboot entry 0x"},
		{"twice", append(syms, "-o", filepath.Join(dir, "again.elf"), out), 1, "already has a multiboot header"},
		{"pvh-only", append(syms, "-protocols=pvh", "-o", filepath.Join(dir, "pvh.elf"), in), 0, "groveimg: pvh: pvh entry 0x"},
		{"multiboot-only", append(syms, "-protocols", "multiboot", "-o", filepath.Join(dir, "mb.elf"), in), 0, "groveimg: multiboot: multiboot entry"},
		{"multiboot2-only", append(syms, "-protocols", "multiboot2", "-o", filepath.Join(dir, "mb2.elf"), in), 0, "groveimg: multiboot2: multiboot2 entry 0x"},
		{"default-symbols-missing", []string{"-o", filepath.Join(dir, "x.elf"), in}, 1, "missing symbol grove/kernel.entry64"},
		{"bad-protocol", append(syms, "-protocols=linux", "-o", filepath.Join(dir, "x.elf"), in), 2, "unknown boot protocol"},
		{"no-output", append(syms, in), 2, "usage: groveimg"},
		{"no-input", append(syms, "-o", filepath.Join(dir, "x.elf")), 2, "usage: groveimg"},
		{"not-elf", append(syms, "-o", filepath.Join(dir, "x.elf"), "main.go"), 1, "not a bootable Go ELF"},
		{"missing-file", append(syms, "-o", filepath.Join(dir, "x.elf"), filepath.Join(dir, "nope")), 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			got := stdout.String()
			if code != 0 {
				got = stderr.String()
			}
			if code != tt.code || !strings.Contains(got, tt.want) {
				t.Fatalf("run(%q) = %d, stdout %q stderr %q; want %d with %q", tt.args, code, stdout.String(), stderr.String(), tt.code, tt.want)
			}
			if code == 0 && strings.Count(got, "\n") != 1 {
				t.Errorf("summary is not one line: %q", got)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "again.elf")); err == nil {
		t.Error("refused run still wrote its output")
	}
}
