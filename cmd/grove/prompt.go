package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"grove/hv"
	"grove/kernel"
)

var started = time.Now()

// prompt is the console's idle loop: a few commands to look at the system.
func prompt() {
	fmt.Println("Type 'help' for commands; 'halt' powers off (in QEMU: Ctrl-A X quits).")
	in := bufio.NewScanner(os.Stdin)
	for {
		fmt.Print("grove> ")
		if !in.Scan() {
			return
		}
		cmd := strings.TrimSpace(in.Text())
		if domainCommand(cmd) {
			continue
		}
		switch cmd {
		case "":
		case "help":
			fmt.Println("commands: mem, uptime, gc, list, pause ID, unpause ID, halt")
		case "mem":
			m := kernel.ReadMemInfo()
			var s runtime.MemStats
			runtime.ReadMemStats(&s)
			fmt.Printf("pages: total %d free %d (min %d) mapped-for-Go %d page-tables %d hypervisor %d; Go heap in use %d KiB\n",
				m.Total, m.Free, m.MinFree, m.User, m.Tables, hv.PagesHeld(), s.HeapInuse>>10)
		case "uptime":
			fmt.Println(time.Since(started).Round(time.Millisecond))
		case "gc":
			runtime.GC()
			fmt.Println("done")
		case "halt":
			kernel.Shutdown(0)
		default:
			fmt.Printf("unknown command %q\n", cmd)
		}
	}
}
