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
		if domainCommand(cmd) || consoleCommand(cmd) {
			continue
		}
		switch cmd {
		case "":
		case "help":
			fmt.Println("commands: mem, uptime, gc, list, pause ID, unpause ID, console ID, state ID, sysrq ID KEY, halt")
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

// domainCommand handles the prompt's domain commands; false if cmd is not one.
func domainCommand(cmd string) bool {
	f := strings.Fields(cmd)
	if len(f) == 0 || (f[0] != "list" && f[0] != "pause" && f[0] != "unpause" && f[0] != "state" && f[0] != "sysrq") {
		return false
	}
	if hyp == nil {
		fmt.Println("no hypervisor running (boot with guest=NAME or demo)")
		return true
	}
	if f[0] == "list" {
		for _, d := range hyp.Domains() {
			i := d.Info()
			status := ""
			if i.Exited {
				status = fmt.Sprintf(" status=%d", i.ExitStatus)
			}
			fmt.Printf("d%-3d %-10s %-8s pause=%d mem=%dMiB overhead=%dKiB exits=%d unmodelled=%d%s\n",
				i.ID, i.Name, i.State, i.PauseCount, i.MemoryMB, i.OverheadKB, i.Exits, i.Unmodelled, status)
		}
		return true
	}
	var id int
	if f[0] == "sysrq" && len(f) != 3 {
		fmt.Println("usage: sysrq ID KEY (a break, then KEY, on the domain's serial port)")
		return true
	}
	if f[0] != "sysrq" && len(f) != 2 {
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
	switch f[0] {
	case "state":
		fmt.Print(d.State())
		return true
	case "sysrq":
		if err := d.ConsoleBreak([]byte(f[2])); err != nil {
			fmt.Printf("sysrq d%d: %v\n", id, err)
		}
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
