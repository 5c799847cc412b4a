package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"grove/boot/bundle"
	"grove/boot/guest"
	"grove/guests/builtin"
	"grove/hv"
	"grove/kernel"
)

// Built-in guests (guest=NAME) stay: the QEMU tests, make bench and the demo
// start them. They come prebuilt from package guests/builtin, so the image
// does not link the assembler that makes them.

var hyp *hv.Hypervisor

// startGuests starts the domains of boot bundles and raw module images, then
// the built-in guests named on the command line, all created before any
// runs (startAll). A broken bundle or module is reported and skipped: Grove
// boots regardless.
func startGuests(args []string) {
	ba, errs := parseBootArgs(args)
	for _, err := range errs {
		fmt.Fprintf(os.Stderr, "grove: %v\n", err)
	}
	bundles, raw := readModules()
	if len(ba.guests) == 0 && len(bundles) == 0 && len(raw) == 0 {
		return
	}
	slice := ba.slice
	for _, b := range bundles {
		if slice == 0 && b.Config.TimesliceMS != 0 {
			slice = time.Duration(b.Config.TimesliceMS) * time.Millisecond
		}
	}
	h, err := hv.Start(slice)
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: %v\n", err)
		return
	}
	hyp = h
	var specs []bootDomain
	for _, b := range bundles {
		for _, dc := range b.Config.Domains {
			specs = append(specs, bootDomain{hv.Config{Name: dc.Name, MemoryMB: dc.MemoryMB, Image: b.Files[dc.Boot()],
				Initrd: b.Files[dc.Initrd], Cmdline: dc.Cmdline, Privileged: dc.Privileged, VCPUs: dc.VCPUs,
				Affinity: cpuMask(dc.Affinity)}, "grove.toml"})
		}
	}
	for _, cfg := range raw {
		specs = append(specs, bootDomain{cfg, "boot module"})
	}
	for _, n := range ba.guests {
		img, ok := builtin.Image(n)
		if !ok {
			fmt.Fprintf(os.Stderr, "grove: guest=%s: no such built-in guest (there are %v)\n", n, builtin.Names())
			continue
		}
		specs = append(specs, bootDomain{hv.Config{Name: n, MemoryMB: 4, Image: img, Privileged: builtin.Privileged(n)},
			"guest=" + n})
	}
	startAll(specs, hvCreator(h), os.Stdout, os.Stderr)
}

// readModules sorts the boot modules into bundles (newc cpio), raw images
// (PVH ELF, Linux bzImage or multiboot kernel), whose strings parseModule
// reads, and the
// initrds of raw Linux modules (initrd-for=NAME, checked first: an
// initramfs is a cpio too). A module it refuses is reported and starts no
// domain.
func readModules() (bundles []*bundle.Bundle, raw []hv.Config) {
	initrds := map[string]int{} // domain name -> module index
	for i := range kernel.Boot.Mods[:kernel.Boot.NMods] {
		m := &kernel.Boot.Mods[i]
		data := kernel.ModuleBytes(*m)
		if takeInitrd(i, m.Cmdline(), initrds) {
			continue
		}
		if bytes.HasPrefix(data, []byte("070701")) {
			b, err := bundle.Parse(data)
			if err != nil {
				fmt.Fprintf(os.Stderr, "grove: boot bundle (module %d) refused, no domains started from it:\n%v\n", i, err)
				continue
			}
			fmt.Printf("grove: boot bundle (module %d): %d domains\n", i, len(b.Config.Domains))
			bundles = append(bundles, b)
			continue
		}
		cfg, err := parseModule(fmt.Sprintf("module%d", i), m.Cmdline())
		if err != nil {
			fmt.Fprintf(os.Stderr, "grove: module %d refused, no domain started from it:\n%v\n", i, err)
			continue
		}
		cfg.Image = data
		if guest.IsBzImage(data) || guest.IsMultiboot(data) {
			cfg.Cmdline = linuxCmdline(cfg.Cmdline)
		}
		raw = append(raw, cfg)
	}
	return bundles, attachInitrds(raw, initrds)
}

// takeInitrd records module i as the initrd its string names
// (initrd-for=NAME) and reports whether the module is an initrd, taken or
// refused.
func takeInitrd(i int, line string, initrds map[string]int) bool {
	name, ok, err := initrdFor(line)
	if !ok {
		return false
	}
	if j, dup := initrds[name]; dup && err == nil {
		err = fmt.Errorf("initrd-for=%s: module %d is its initrd already", name, j)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: module %d refused: %v\n", i, err)
		return true
	}
	initrds[name] = i
	return true
}

// attachInitrds gives each raw Linux module the initrd module naming it;
// an initrd naming no raw module is reported and dropped.
func attachInitrds(raw []hv.Config, initrds map[string]int) []hv.Config {
	for i := range raw {
		if m, ok := initrds[raw[i].Name]; ok {
			raw[i].Initrd = kernel.ModuleBytes(kernel.Boot.Mods[m])
			delete(initrds, raw[i].Name)
		}
	}
	for name, m := range initrds {
		fmt.Fprintf(os.Stderr, "grove: module %d (initrd-for=%s) refused: no raw module domain is called %q\n", m, name, name)
	}
	return raw
}

// cpuMask turns a grove.toml affinity list into a mask of online CPUs; a
// list naming none of them is reported and means any CPU.
func cpuMask(cpus []int) uint64 {
	var m uint64
	for _, c := range cpus {
		if c < kernel.OnlineCPUs() {
			m |= 1 << uint(c)
		}
	}
	if m == 0 && len(cpus) > 0 {
		fmt.Printf("grove: affinity %v names no online CPU (%d online): running anywhere\n", cpus, kernel.OnlineCPUs())
	}
	return m
}
