package main

import (
	"strings"
	"testing"
	"time"

	"grove/hv"
)

func TestParseModule(t *testing.T) {
	for _, tc := range []struct {
		line string
		want hv.Config // Cmdline is always the line
		err  string    // non-empty: the error must contain it
	}{
		{"", hv.Config{Name: "module1", MemoryMB: 64}, ""},
		{"name=web1", hv.Config{Name: "web1", MemoryMB: 64}, ""},
		{"name=web1 mem=32", hv.Config{Name: "web1", MemoryMB: 32}, ""},
		{"mem=128 privileged name=dom0 role=agent", hv.Config{Name: "dom0", MemoryMB: 128, Privileged: true}, ""},
		{"crashafter=50 name=db1", hv.Config{Name: "db1", MemoryMB: 64}, ""},
		{"unprivileged", hv.Config{Name: "module1", MemoryMB: 64}, ""},
		{"name=mv vcpus=2", hv.Config{Name: "mv", MemoryMB: 64, VCPUs: 2}, ""},
		{"name=x vcpus=0", hv.Config{}, `module "x": vcpus=0: not a number of vCPUs in 1..16`},
		{"name=x vcpus=17", hv.Config{}, `vcpus=17: not a number of vCPUs in 1..16`},
		{"name=x vcpus=2 vcpus=2", hv.Config{}, `vcpus=2: vcpus= given twice`},
		{"name=x mem=abc", hv.Config{}, `module "x": mem=abc: not a number of MiB`},
		{"mem=abc", hv.Config{}, `module "module1": mem=abc: not a number of MiB`},
		{"name=x mem=", hv.Config{}, `module "x": mem=: not a number of MiB`},
		{"name=x mem=-4", hv.Config{}, `mem=-4: not a number of MiB`},
		{"name=x mem=+4", hv.Config{}, `mem=+4: not a number of MiB`},
		{"name=x mem=64M", hv.Config{}, `mem=64M: not a number of MiB`},
		{"name=x mem=99999999999", hv.Config{}, `mem=99999999999: not a number of MiB`},
		{"name=x mem=32 mem=64", hv.Config{}, `module "x": mem=64: mem= given twice`},
		{"name=a name=b", hv.Config{}, `module "a": name=b: name= given twice`},
		{"name=", hv.Config{}, `module "module1": name=: empty`},
		{"name=x mem=q name=y", hv.Config{}, "mem=q: not a number of MiB\nname=y: name= given twice"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			got, err := parseModule("module1", tc.line)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseModule = %+v, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			tc.want.Cmdline = tc.line
			if err != nil || got.Name != tc.want.Name || got.MemoryMB != tc.want.MemoryMB ||
				got.Privileged != tc.want.Privileged || got.Cmdline != tc.want.Cmdline {
				t.Fatalf("parseModule = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseModule(f *testing.F) {
	for _, s := range []string{"", "name=web1 mem=32 privileged", "mem=abc", "name= name=", "mem=0x10\tname=a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cfg, err := parseModule("m", line)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "module ") {
				t.Fatalf("error %q does not name the module", err)
			}
			return
		}
		if cfg.Name == "" || cfg.MemoryMB < 0 || cfg.Cmdline != line {
			t.Fatalf("parseModule(%q) = %+v", line, cfg)
		}
	})
}

func TestParseBootArgs(t *testing.T) {
	for _, tc := range []struct {
		args   string
		guests string
		slice  time.Duration
		errs   int
	}{
		{"", "", 0, 0},
		{"guest=hello guest=triple", "hello triple", 0, 0},
		{"demo guest=ctl", "heartbeat heartbeat heartbeat ctl", 0, 0},
		{"timeslice=5 selftest", "", 5 * time.Millisecond, 0},
		{"timeslice=0", "", 0, 1},
		{"timeslice=1001 timeslice=x", "", 0, 2},
		{"timeslice=1000 bench crash=nil", "", time.Second, 0},
	} {
		t.Run(tc.args, func(t *testing.T) {
			b, errs := parseBootArgs(strings.Fields(tc.args))
			if got := strings.Join(b.guests, " "); got != tc.guests || b.slice != tc.slice || len(errs) != tc.errs {
				t.Fatalf("parseBootArgs = %q, %v, %v; want %q, %v, %d errors", got, b.slice, errs, tc.guests, tc.slice, tc.errs)
			}
		})
	}
}

func TestLinuxCmdline(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"", ""},
		{"name=linux mem=256 vcpus=2 console=ttyS0", "console=ttyS0"},
		{"console=ttyS0 privileged earlyprintk=serial,ttyS0 name=l", "console=ttyS0 earlyprintk=serial,ttyS0"},
		{"rdinit=/bin/sh  quiet", "rdinit=/bin/sh quiet"},
		{"memmap=1M$2M nameserver=x", "memmap=1M$2M nameserver=x"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			if got := linuxCmdline(tc.line); got != tc.want {
				t.Fatalf("linuxCmdline = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestInitrdFor(t *testing.T) {
	for _, tc := range []struct {
		line, name string
		ok         bool
		err        string
	}{
		{"", "", false, ""},
		{"name=linux mem=256", "", false, ""},
		{"initrd-for=linux", "linux", true, ""},
		{"x initrd-for=l2 y", "l2", true, ""},
		{"initrd-for=", "", true, "initrd-for=: empty"},
		{"initrd-for=a initrd-for=b", "", true, "initrd-for=b: initrd-for= given twice"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			name, ok, err := initrdFor(tc.line)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("initrdFor = %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil || name != tc.name || ok != tc.ok {
				t.Fatalf("initrdFor = %q, %v, %v; want %q, %v", name, ok, err, tc.name, tc.ok)
			}
		})
	}
}
