package main

import (
	"fmt"
	"os"
	"strings"

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
	"bench":     func() ([]byte, error) { return asm.Bench(100_000) },
	// ctl is privileged (dom0): it pauses d2 for 1.5 s through domctl.
	"ctl": func() ([]byte, error) { return asm.Control(2, 1_500_000_000, 100_000_000) },
	// dom0 is ctl for the demo (make run): it beats every 4 s.
	"dom0": func() ([]byte, error) { return asm.Control(2, 1_500_000_000, 4_000_000_000) },
}

var hyp *hv.Hypervisor

// startGuests creates and unpauses the guests named on the command line
// ("demo" = three heartbeats).
func startGuests(args []string) {
	var names []string
	for _, a := range args {
		if a == "demo" {
			names = append(names, "heartbeat", "heartbeat", "heartbeat")
		}
		if n, ok := strings.CutPrefix(a, "guest="); ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 && kernel.Boot.NMods == 0 {
		return
	}
	h, err := hv.Start(hv.DefaultSlice)
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: %v\n", err)
		return
	}
	hyp = h
	startModuleGuests(h)
	for _, n := range names {
		build, ok := builtinGuests[n]
		if !ok {
			fmt.Fprintf(os.Stderr, "grove: guest=%s: no such built-in guest\n", n)
			continue
		}
		img, err := build()
		if err == nil {
			var d *hv.Domain
			cfg := hv.Config{Name: n, MemoryMB: 4, Image: img, Privileged: n == "ctl" || n == "dom0"}
			if d, err = h.CreateDomain(cfg); err == nil {
				fmt.Printf("grove: created d%d (%s)\n", d.ID, n)
				err = d.Unpause()
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "grove: guest=%s: %v\n", n, err)
		}
	}
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

// startModuleGuests runs each boot module as a domain. The module's string
// (QEMU: -initrd "FILE name=web1 mem=64 period=1s,...") names the domain
// (name=), sizes it (mem= MiB, default 64), makes it the control domain
// (privileged) and is the guest's command line.
func startModuleGuests(h *hv.Hypervisor) {
	for i := range kernel.Boot.Mods[:kernel.Boot.NMods] {
		m := &kernel.Boot.Mods[i]
		cfg := hv.Config{Name: fmt.Sprintf("module%d", i), MemoryMB: 64, Image: kernel.ModuleBytes(*m), Cmdline: m.Cmdline()}
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
		d, err := h.CreateDomain(cfg)
		if err == nil {
			fmt.Printf("grove: created d%d (%s)\n", d.ID, cfg.Name)
			err = d.Unpause()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "grove: module %d: %v\n", i, err)
		}
	}
}
