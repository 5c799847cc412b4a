//go:build groveguest

package main

import (
	"fmt"

	"grove/hv/abi"
)

// bootAct (command-line word "bootact") acts on the other boot domains the
// moment the agent runs, as a control domain may: it reports how many
// domains exist and which run, and destroys the one with the highest id.
// The boot-bundle test reads these lines: the loader creates and starts
// every domain before dom0, so all of them are there and running.
func bootAct() {
	infos, err := domains()
	if err != nil {
		fmt.Println("agent: bootact: domain list:", err)
		return
	}
	running, last := 0, uint16(0)
	for _, i := range infos {
		if i.Flags&abi.InfoRunning != 0 {
			running++
		}
		last = max(last, i.Domain)
	}
	fmt.Printf("agent: bootact: %d domains at start, %d running\n", len(infos), running)
	if last != 0 {
		fmt.Printf("agent: bootact: destroy d%d -> %s\n", last, errText(ctl(abi.DomctlDestroy, last)))
	}
}
