package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"grove/boot/bundle"
	"grove/guests/asm"
	"grove/hv"
	"grove/kernel"
)

// builtinGuests are the tiny assembly guests compiled into the image, started
// with guest=NAME on the command line (several may be given).
var builtinGuests = map[string]func() ([]byte, error){
	"hello":     asm.Hello,
	"heartbeat": func() ([]byte, error) { return asm.Heartbeat(100_000_000) },
	"cpuid":     asm.CPUIDProbe,
	"results":   asm.Results,
	"unmapped":  asm.Unmapped,
	"triple":    asm.TripleFault,
	"fuzz":      func() ([]byte, error) { return asm.Fuzz(100_000) },
	"bench":     func() ([]byte, error) { return asm.Bench(40_000, 3) }, // 120,000 of each
	// ctl is privileged (dom0): it pauses d2 for 1.5 s through domctl.
	"ctl": func() ([]byte, error) { return asm.Control(2, 1_500_000_000, 100_000_000) },
	// dom0 is ctl for the demo (make run): it beats every 4 s.
	"dom0": func() ([]byte, error) { return asm.Control(2, 1_500_000_000, 4_000_000_000) },
}

var hyp *hv.Hypervisor

// startGuests starts the domains of boot bundles and raw module images, then
// the built-in guests named on the command line ("demo" = three heartbeats).
// A broken bundle is reported and skipped: Grove boots regardless.
func startGuests(args []string) {
	var names []string
	slice := time.Duration(0)
	for _, a := range args {
		if a == "demo" {
			names = append(names, "heartbeat", "heartbeat", "heartbeat")
		}
		if n, ok := strings.CutPrefix(a, "guest="); ok {
			names = append(names, n)
		}
		if v, ok := strings.CutPrefix(a, "timeslice="); ok {
			if ms, err := strconv.Atoi(v); err == nil && ms >= 1 && ms <= 1000 {
				slice = time.Duration(ms) * time.Millisecond
			} else {
				fmt.Fprintf(os.Stderr, "grove: timeslice=%s: want milliseconds 1..1000; using the default\n", v)
			}
		}
	}
	bundles, raw := readModules()
	if len(names) == 0 && len(bundles) == 0 && len(raw) == 0 {
		return
	}
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
	for _, b := range bundles {
		for _, dc := range b.Config.Domains {
			start(h, hv.Config{Name: dc.Name, MemoryMB: dc.MemoryMB, Image: b.Files[dc.Image],
				Cmdline: dc.Cmdline, Privileged: dc.Privileged}, "grove.toml: domain "+strconv.Quote(dc.Name))
		}
	}
	for _, cfg := range raw {
		start(h, cfg, "module "+cfg.Name)
	}
	for _, n := range names {
		build, ok := builtinGuests[n]
		if !ok {
			fmt.Fprintf(os.Stderr, "grove: guest=%s: no such built-in guest\n", n)
			continue
		}
		img, err := build()
		if err != nil {
			fmt.Fprintf(os.Stderr, "grove: guest=%s: %v\n", n, err)
			continue
		}
		start(h, hv.Config{Name: n, MemoryMB: 4, Image: img, Privileged: n == "ctl" || n == "dom0"}, "guest="+n)
	}
}

// start creates a domain and unpauses it, reporting failures under what.
func start(h *hv.Hypervisor, cfg hv.Config, what string) {
	d, err := h.CreateDomain(cfg)
	if err == nil {
		fmt.Printf("grove: created d%d (%s)\n", d.ID, cfg.Name)
		err = d.Unpause()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: %s: %v\n", what, err)
	}
}

// readModules sorts the boot modules into bundles (newc cpio) and raw PVH
// images. A raw module's string (QEMU: -initrd "FILE name=web1 mem=64
// privileged ARGS,...") names the domain, sizes it (MiB, default 64), makes
// it the control domain and is the guest's command line.
func readModules() (bundles []*bundle.Bundle, raw []hv.Config) {
	for i := range kernel.Boot.Mods[:kernel.Boot.NMods] {
		m := &kernel.Boot.Mods[i]
		data := kernel.ModuleBytes(*m)
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
		cfg := hv.Config{Name: fmt.Sprintf("module%d", i), MemoryMB: 64, Image: data, Cmdline: m.Cmdline()}
		for _, w := range strings.Fields(cfg.Cmdline) {
			if v, ok := strings.CutPrefix(w, "name="); ok {
				cfg.Name = v
			}
			if v, ok := strings.CutPrefix(w, "mem="); ok {
				fmt.Sscanf(v, "%d", &cfg.MemoryMB)
			}
			if w == "privileged" {
				cfg.Privileged = true
			}
		}
		raw = append(raw, cfg)
	}
	return bundles, raw
}

// domainCommand handles the prompt's domain commands; false if cmd is not one.
func domainCommand(cmd string) bool {
	f := strings.Fields(cmd)
	if len(f) == 0 || (f[0] != "list" && f[0] != "pause" && f[0] != "unpause") {
		return false
	}
	if hyp == nil {
		fmt.Println("no hypervisor running (boot with guest=NAME or demo)")
		return true
	}
	if f[0] == "list" {
		for _, d := range hyp.Domains() {
			i := d.Info()
			fmt.Printf("d%-3d %-10s %-8s pause=%d mem=%dMiB overhead=%dKiB exits=%d\n",
				i.ID, i.Name, i.State, i.PauseCount, i.MemoryMB, i.OverheadKB, i.Exits)
		}
		return true
	}
	var id int
	if len(f) != 2 {
		fmt.Printf("usage: %s ID\n", f[0])
		return true
	}
	if _, err := fmt.Sscanf(f[1], "%d", &id); err != nil {
		fmt.Printf("%s: bad domain id %q\n", f[0], f[1])
		return true
	}
	d, ok := hyp.Domain(hv.DomID(id))
	if !ok {
		fmt.Printf("%s: d%d: no such domain\n", f[0], id)
		return true
	}
	err := d.Pause
	if f[0] == "unpause" {
		err = d.Unpause
	}
	if e := err(); e != nil {
		fmt.Printf("%s d%d: %v\n", f[0], id, e)
	} else {
		fmt.Printf("%sd d%d\n", f[0], id)
	}
	return true
}
