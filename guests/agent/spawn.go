//go:build groveguest

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"grove/guests/asm"
	"grove/hv/abi"
)

// spawn: with the command-line word "spawn=N" the agent creates N domains
// of 2 MiB that do nothing (interrupts off, HLT: blocked for good, no
// exits), runs them, and says so; tests use them as a crowd whose events
// arrive together.
func spawn() {
	n := 0
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "spawn="); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	if n <= 0 {
		return
	}
	img, err := idleImage()
	for i := 0; i < n && err == nil; i++ {
		var id uint16
		if id, err = create(img, 2, ""); err == nil {
			err = ctl(abi.DomctlUnpause, id)
		}
	}
	if err != nil {
		fmt.Printf("agent: spawn: %v\n", err)
		return
	}
	fmt.Printf("agent: spawned %d idle domains\n", n)
}

// idleImage is a guest that halts with interrupts off.
func idleImage() ([]byte, error) {
	p := asm.New()
	p.Label("top").CLI().HLT().Jmp("top")
	return p.Image()
}
