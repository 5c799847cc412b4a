package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"grove/boot/bundle"
	gt "grove/boot/guest/guesttest"
)

const config = `[[domain]]
name = "dom0"
image = "guests/agent.elf"
memory_mb = 32
privileged = true
`

func setup(t *testing.T, cfg string) (dir string) {
	dir = t.TempDir()
	for name, b := range map[string][]byte{"grove.toml": []byte(cfg), "agent.elf": gt.Simple(true)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuild(t *testing.T) {
	dir := setup(t, config)
	out := filepath.Join(dir, "out.cpio")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-o", out, "-config", filepath.Join(dir, "grove.toml"),
		"guests/agent.elf=" + filepath.Join(dir, "agent.elf")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := bundle.Parse(data); err != nil || b.Config.Domains[0].Name != "dom0" {
		t.Errorf("written bundle: %v", err)
	}
}

func TestRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, cfg string
		args      []string
		code      int
		want      string
	}{
		{"no-flags", config, nil, 2, "usage"},
		{"bad-pair", config, []string{"agent.elf"}, 1, `"agent.elf": want name=path`},
		{"missing-image", config, []string{}, 1, `bundle: guests/agent.elf: referenced by domain "dom0" but not in the bundle`},
		{"bad-config", strings.Replace(config, "32", "4", 1), []string{"guests/agent.elf=AGENT"}, 1,
			`grove.toml: domain[0] "dom0": memory_mb: 4 is below the minimum 16`},
		{"missing-file", config, []string{"guests/agent.elf=nosuch"}, 1, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := setup(t, tc.cfg)
			out := filepath.Join(dir, "out.cpio")
			args := []string{"-o", out, "-config", filepath.Join(dir, "grove.toml")}
			if tc.args == nil {
				args = nil
			}
			for _, a := range tc.args {
				args = append(args, strings.Replace(a, "AGENT", filepath.Join(dir, "agent.elf"), 1))
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tc.code, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("wrote a bundle anyway")
			}
		})
	}
}
