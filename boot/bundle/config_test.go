package bundle

import (
	"reflect"
	"strings"
	"testing"
)

const goodConfig = `# demo
timeslice_ms = 20

[[domain]]
name = "dom0"
image = "guests/agent.elf"
memory_mb = 128
cmdline = "role=agent"
privileged = true

[[domain]]
name = "web1"
image = "guests/heartbeat.elf"
memory_mb = 64
vcpus = 2
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{TimesliceMS: 20, Domains: []DomainConfig{
		{Name: "dom0", Image: "guests/agent.elf", MemoryMB: 128, Cmdline: "role=agent", Privileged: true, VCPUs: 1},
		{Name: "web1", Image: "guests/heartbeat.elf", MemoryMB: 64, VCPUs: 2},
	}}
	if cfg.TimesliceMS != want.TimesliceMS || len(cfg.Domains) != 2 || !reflect.DeepEqual(cfg.Domains, want.Domains) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	if cfg.Control() != 0 {
		t.Errorf("Control() = %d", cfg.Control())
	}
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte("[[domain]]\nname = \"a\"\nimage = \"a.elf\"\nmemory_mb = 16\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Domains[0]
	if cfg.TimesliceMS != 10 || d.VCPUs != 1 || d.Privileged || d.Cmdline != "" || cfg.Control() != -1 {
		t.Errorf("defaults: %+v", cfg)
	}
}

// domainTOML is one [[domain]] table with fields overridden (or, with
// value "", removed).
func domainTOML(over map[string]string) string {
	fields := [][2]string{{"name", `"web1"`}, {"image", `"guests/web.elf"`}, {"memory_mb", "64"}}
	var b strings.Builder
	b.WriteString("[[domain]]\n")
	for _, f := range fields {
		v, ok := over[f[0]]
		if !ok {
			v = f[1]
		}
		if v != "" {
			b.WriteString(f[0] + " = " + v + "\n")
		}
	}
	for k, v := range over {
		if k != "name" && k != "image" && k != "memory_mb" {
			b.WriteString(k + " = " + v + "\n")
		}
	}
	return b.String()
}

func TestParseConfigRefuses(t *testing.T) {
	dom0 := "[[domain]]\nname = \"dom0\"\nimage = \"a.elf\"\nmemory_mb = 16\nprivileged = true\n"
	// Cases on the second domain are named by the field they override.
	web1 := func(key, value string) (string, string) {
		name := key + "=" + value
		if len(name) > 24 {
			name = name[:24] + "..."
		}
		return name, dom0 + domainTOML(map[string]string{key: value})
	}
	type tc struct{ name, config, want string }
	cases := []tc{
		{"empty", "", "grove.toml: no [[domain]]"},
		{"timeslice_ms=0", "timeslice_ms = 0\n" + dom0, "grove.toml: timeslice_ms: 0 is below the minimum 1"},
		{"timeslice_ms=1001", "timeslice_ms = 1001\n" + dom0, "grove.toml: timeslice_ms: 1001 is above the maximum 1000"},
		{"unknown-global", "timeslice = 5\n" + dom0, "grove.toml: unknown key timeslice"},
		{"unknown-subtable", dom0 + "[domain.extra]\nx = 1\n", "grove.toml: unknown key domain[0].extra"},
		{"syntax", dom0 + "memory_mb = = 3\n", "grove.toml:6: "},
		{"duplicate-key", "[[domain]]\nname = \"a\"\nname = \"b\"\n", "grove.toml:3: "},
		{"domain-not-array", "[domain]\nname = \"a\"\n", "grove.toml:1: domain: incompatible types"},
	}
	for _, c := range []struct{ key, value, want string }{
		{"memory_mb", "4", `grove.toml: domain[1] "web1": memory_mb: 4 is below the minimum 16`},
		{"memory_mb", "16385", `grove.toml: domain[1] "web1": memory_mb: 16385 is above the maximum 16384`},
		{"memory_mb", "", `grove.toml: domain[1] "web1": memory_mb: missing`},
		{"memory_mb", `"64"`, "grove.toml:9: domain.memory_mb: incompatible types: TOML value has type string; destination has type integer"},
		{"name", "", `grove.toml: domain[1]: name: missing`},
		{"name", `"Web 1"`, `grove.toml: domain[1]: name: "Web 1" is not 1 to 32 of a-z, 0-9 and -`},
		{"name", `"` + strings.Repeat("a", 33) + `"`, `is not 1 to 32`},
		{"name", `"dom0"`, `grove.toml: domain[1] "dom0": name already used by domain[0]`},
		{"image", "", `grove.toml: domain[1] "web1": image: missing`},
		{"image", `"/guests/web.elf"`, `image: "/guests/web.elf": absolute path`},
		{"image", `"../web.elf"`, `image: "../web.elf": outside the bundle`},
		{"image", `"./web.elf"`, `image: "./web.elf": not a clean path (want "web.elf")`},
		{"image", `""`, `image: empty path`},
		{"kernel", `"linux/vmlinuz"`, `grove.toml: domain[1] "web1": kernel: given with image; a domain boots one`},
		{"initrd", `"linux/initramfs.cpio"`, `grove.toml: domain[1] "web1": initrd: needs kernel`},
		{"cmdline", `"` + strings.Repeat("c", 1024) + `"`, `cmdline: 1024 bytes, at most 1023`},
		{"vcpus", "0", `grove.toml: domain[1] "web1": vcpus: 0 is below the minimum 1`},
		{"vcpus", "17", `vcpus: 17 is above the maximum 16`},
		{"affinity", "[0, 9]", `affinity: CPU 9 is above the maximum 7`},
		{"affinity", "[-1]", `affinity: CPU -1 is below the minimum 0`},
		{"privileged", "true", `grove.toml: domain[1] "web1": privileged: domain[0] "dom0" is privileged already`},
		{"memroy_mb", "64", "grove.toml: unknown key domain[1].memroy_mb"},
	} {
		name, config := web1(c.key, c.value)
		cases = append(cases, tc{name, config, c.want})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.config))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("config:\n%s\ngot  %v\nwant %q", tc.config, err, tc.want)
			}
		})
	}
}

func TestParseConfigLinux(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		want       DomainConfig
		wantErr    string
	}{
		{"kernel-initrd", `kernel = "linux/vmlinuz"` + "\n" + `initrd = "linux/initramfs.cpio"`,
			DomainConfig{Name: "linux", Kernel: "linux/vmlinuz", Initrd: "linux/initramfs.cpio", MemoryMB: 256, VCPUs: 1}, ""},
		{"kernel-alone", `kernel = "vmlinuz"`, DomainConfig{Name: "linux", Kernel: "vmlinuz", MemoryMB: 256, VCPUs: 1}, ""},
		{"neither", ``, DomainConfig{}, `grove.toml: domain[0] "linux": image: missing (or kernel, for a Linux bzImage or a multiboot kernel)`},
		{"initrd-alone", `initrd = "x.cpio"`, DomainConfig{}, `initrd: needs kernel`},
		{"kernel-path", `kernel = "../vmlinuz"`, DomainConfig{}, `grove.toml: domain[0] "linux": kernel: "../vmlinuz": outside the bundle`},
		{"initrd-path", `kernel = "vmlinuz"` + "\n" + `initrd = "/x.cpio"`, DomainConfig{}, `initrd: "/x.cpio": absolute path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte("[[domain]]\nname = \"linux\"\nmemory_mb = 256\n" + tc.toml + "\n"))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cfg.Domains[0]; !reflect.DeepEqual(d, tc.want) || d.Boot() != tc.want.Kernel {
				t.Fatalf("got %+v, want %+v", d, tc.want)
			}
		})
	}
}

// TestParseConfigReportsAll checks that one run names every problem, so a
// user fixes a config in one go.
func TestParseConfigReportsAll(t *testing.T) {
	_, err := ParseConfig([]byte("timeslice_ms = 0\n" + domainTOML(map[string]string{"memory_mb": "1", "vcpus": "99"})))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"timeslice_ms", "memory_mb", "vcpus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q missing from %v", want, err)
		}
	}
}
