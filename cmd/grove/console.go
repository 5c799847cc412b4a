package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"grove/hv"
)

// ctrlBracket (Ctrl-]) ends console mode, as in telnet and virsh console.
const ctrlBracket = 0x1d

// consoleCommand handles "console N": keystrokes go to domain N's serial
// port until Ctrl-], while every domain's output stays on the console,
// tagged. False if cmd is not a console command.
func consoleCommand(cmd string) bool {
	f := strings.Fields(cmd)
	if len(f) == 0 || f[0] != "console" {
		return false
	}
	if hyp == nil {
		fmt.Println("no hypervisor running (boot with guest=NAME or demo)")
		return true
	}
	id, err := strconv.Atoi(strings.Join(f[1:], ""))
	if len(f) != 2 || err != nil {
		fmt.Println("usage: console ID (Ctrl-] returns to this prompt)")
		return true
	}
	d, ok := hyp.Domain(hv.DomID(id))
	if !ok {
		fmt.Printf("console: no domain %d\n", id)
		return true
	}
	if err := d.ConsoleInput(nil); err != nil {
		fmt.Printf("console: d%d: %v\n", id, err)
		return true
	}
	fmt.Printf("[console: d%d; Ctrl-] returns to the prompt]\n", id)
	relay(d)
	fmt.Printf("\n[console: back at the prompt]\n")
	return true
}

// relay copies keystrokes to d's serial port until Ctrl-] or the end of
// the input. The kernel's console turns CR into LF; a terminal sends CR
// for Enter, which is what the guest's tty expects, so LF goes back to CR.
func relay(d *hv.Domain) {
	buf := make([]byte, 64)
	for {
		n, err := os.Stdin.Read(buf)
		for i, c := range buf[:n] {
			if c == ctrlBracket {
				d.ConsoleInput(buf[:i])
				return
			}
			if c == '\n' {
				buf[i] = '\r'
			}
		}
		if n > 0 {
			if err := d.ConsoleInput(buf[:n]); err != nil {
				fmt.Printf("\n[console: d%d: %v]\n", d.ID, err)
				return
			}
		}
		if err != nil {
			return
		}
	}
}
