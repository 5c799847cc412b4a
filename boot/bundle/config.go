package bundle

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"grove/boot/guest"
	"grove/internal/strictoml"
)

// ConfigName is the config file at the root of every bundle.
const ConfigName = "grove.toml"

// Limits of the grove.toml schema (docs/bundle.md).
const (
	DefaultTimesliceMS = 10
	MinTimesliceMS     = 1
	MaxTimesliceMS     = 1000
	MinMemoryMB        = 16
	MaxMemoryMB        = 16384
	DefaultVCPUs       = 1
	MaxCPU             = 7  // highest CPU index an affinity may name
	MaxVCPUs           = 16 // hv.MaxVCPUs; more than the CPUs present is fine (they time-share)
	MaxCmdline         = guest.MaxCmdline
)

// Config is a checked grove.toml.
type Config struct {
	TimesliceMS int
	Domains     []DomainConfig // in file order
}

// DomainConfig is one [[domain]] table. A domain boots either Image, a PVH
// ELF, or Kernel, a Linux bzImage (docs/linux.md) or a multiboot kernel
// (docs/conformance.md), with an optional Initrd (a multiboot kernel's one
// module).
type DomainConfig struct {
	Name       string
	Image      string // path inside the bundle; "" for a Linux domain
	Kernel     string // path inside the bundle; "" for a PVH domain
	Initrd     string // path inside the bundle; only with Kernel
	MemoryMB   int
	Cmdline    string
	Privileged bool // the control domain, dom0 (at most one)
	VCPUs      int
	// Affinity lists the CPUs the domain's vCPUs may run on (empty: any).
	// A CPU that is not online is ignored; if none is, the domain runs
	// anywhere (the hypervisor says so).
	Affinity []int
}

// Boot returns the path of the file the domain boots: its image or kernel.
func (d *DomainConfig) Boot() string {
	if d.Kernel != "" {
		return d.Kernel
	}
	return d.Image
}

// Control returns the privileged domain's index, or -1 if there is none.
func (c *Config) Control() int {
	return slices.IndexFunc(c.Domains, func(d DomainConfig) bool { return d.Privileged })
}

// rawConfig is grove.toml as written: pointers tell a missing key from a
// zero, so defaults apply only to keys left out.
type rawConfig struct {
	TimesliceMS *int        `toml:"timeslice_ms"`
	Domain      []rawDomain `toml:"domain"`
}

type rawDomain struct {
	Name       *string `toml:"name"`
	Image      *string `toml:"image"`
	Kernel     *string `toml:"kernel"`
	Initrd     *string `toml:"initrd"`
	MemoryMB   *int    `toml:"memory_mb"`
	Cmdline    *string `toml:"cmdline"`
	Privileged *bool   `toml:"privileged"`
	VCPUs      *int    `toml:"vcpus"`
	Affinity   []int   `toml:"affinity"`
}

// ParseConfig decodes and checks a grove.toml. Every problem found is
// reported (errors.Join), each starting with "grove.toml".
func ParseConfig(data []byte) (*Config, error) {
	var raw rawConfig
	if err := strictoml.Decode(ConfigName, data, &raw); err != nil {
		return nil, err
	}
	cfg, errs := checkConfig(&raw)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// checkConfig applies defaults and the schema's rules.
func checkConfig(raw *rawConfig) (*Config, []error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(ConfigName+": "+format, args...))
	}
	cfg := &Config{TimesliceMS: DefaultTimesliceMS}
	if raw.TimesliceMS != nil {
		cfg.TimesliceMS = *raw.TimesliceMS
		if msg := inRange(cfg.TimesliceMS, MinTimesliceMS, MaxTimesliceMS); msg != "" {
			fail("timeslice_ms: %s", msg)
		}
	}
	if len(raw.Domain) == 0 {
		fail("no [[domain]]: a bundle must start at least one domain")
	}
	for i, rd := range raw.Domain {
		d, derrs := checkDomain(rd)
		for _, err := range derrs {
			fail("%s: %w", domainRef(i, d.Name), err)
		}
		cfg.Domains = append(cfg.Domains, d)
	}
	errs = append(errs, checkUnique(cfg.Domains)...)
	return cfg, errs
}

// domainRef names a domain in errors: by index, and by name once known.
func domainRef(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("domain[%d]", i)
	}
	return fmt.Sprintf("domain[%d] %q", i, name)
}

func checkDomain(rd rawDomain) (DomainConfig, []error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	d := DomainConfig{VCPUs: DefaultVCPUs, Privileged: rd.Privileged != nil && *rd.Privileged}
	switch {
	case rd.Name == nil:
		fail("name: missing")
	case !nameRE.MatchString(*rd.Name):
		fail("name: %q is not 1 to 32 of a-z, 0-9 and -", *rd.Name)
	default:
		d.Name = *rd.Name
	}
	errs = append(errs, checkBoot(rd, &d)...)
	if rd.MemoryMB == nil {
		fail("memory_mb: missing")
	} else {
		d.MemoryMB = *rd.MemoryMB
		if msg := inRange(d.MemoryMB, MinMemoryMB, MaxMemoryMB); msg != "" {
			fail("memory_mb: %s", msg)
		}
	}
	if rd.Cmdline != nil {
		d.Cmdline = *rd.Cmdline
		if len(d.Cmdline) > MaxCmdline || strings.IndexByte(d.Cmdline, 0) >= 0 {
			fail("cmdline: %d bytes, at most %d and no NUL", len(d.Cmdline), MaxCmdline)
		}
	}
	if rd.VCPUs != nil {
		d.VCPUs = *rd.VCPUs
		if msg := inRange(d.VCPUs, 1, MaxVCPUs); msg != "" {
			fail("vcpus: %s", msg)
		}
	}
	for _, c := range rd.Affinity {
		if msg := inRange(c, 0, MaxCPU); msg != "" {
			fail("affinity: CPU %s", msg)
		}
	}
	d.Affinity = rd.Affinity
	return d, errs
}

// checkBoot takes the files a domain boots: image (PVH), or kernel (a Linux
// bzImage or a multiboot kernel) with an optional initrd.
func checkBoot(rd rawDomain, d *DomainConfig) []error {
	var errs []error
	path := func(key string, p *string, dst *string) {
		if p == nil {
			return
		}
		*dst = *p
		if err := checkPath(*p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", key, err))
		}
	}
	switch {
	case rd.Image == nil && rd.Kernel == nil:
		errs = append(errs, errors.New("image: missing (or kernel, for a Linux bzImage or a multiboot kernel)"))
	case rd.Image != nil && rd.Kernel != nil:
		errs = append(errs, errors.New("kernel: given with image; a domain boots one (image: PVH ELF, kernel: Linux bzImage or multiboot kernel)"))
	}
	if rd.Initrd != nil && rd.Kernel == nil {
		errs = append(errs, errors.New("initrd: needs kernel (an initrd goes with a Linux or multiboot kernel, not a PVH image)"))
	}
	path("image", rd.Image, &d.Image)
	path("kernel", rd.Kernel, &d.Kernel)
	path("initrd", rd.Initrd, &d.Initrd)
	return errs
}

func inRange(v, lo, hi int) string {
	switch {
	case v < lo:
		return fmt.Sprintf("%d is below the minimum %d", v, lo)
	case v > hi:
		return fmt.Sprintf("%d is above the maximum %d", v, hi)
	}
	return ""
}

// checkUnique refuses a name used twice and a second privileged domain:
// dom0 is one domain.
func checkUnique(ds []DomainConfig) []error {
	var errs []error
	first := map[string]int{}
	control := -1
	for i, d := range ds {
		if j, ok := first[d.Name]; ok && d.Name != "" {
			errs = append(errs, fmt.Errorf("%s: %s: name already used by domain[%d]", ConfigName, domainRef(i, d.Name), j))
		} else {
			first[d.Name] = i
		}
		if !d.Privileged {
			continue
		}
		if control >= 0 {
			errs = append(errs, fmt.Errorf("%s: %s: privileged: domain[%d] %q is privileged already; at most one domain is the control domain",
				ConfigName, domainRef(i, d.Name), control, ds[control].Name))
		} else {
			control = i
		}
	}
	return errs
}
