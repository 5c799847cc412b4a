package main

import (
	"fmt"
	"os"
	"strings"

	"grove/guests/asm"
	"grove/hv"
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
	if len(names) == 0 {
		return
	}
	h, err := hv.Start(hv.DefaultSlice)
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: %v\n", err)
		return
	}
	hyp = h
	for _, n := range names {
		build, ok := builtinGuests[n]
		if !ok {
			fmt.Fprintf(os.Stderr, "grove: guest=%s: no such built-in guest\n", n)
			continue
		}
		img, err := build()
		if err == nil {
			var d *hv.Domain
			if d, err = h.CreateDomain(hv.Config{Name: n, MemoryMB: 4, Image: img}); err == nil {
				fmt.Printf("grove: created d%d (%s)\n", d.ID, n)
				err = d.Unpause()
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "grove: guest=%s: %v\n", n, err)
		}
	}
}
