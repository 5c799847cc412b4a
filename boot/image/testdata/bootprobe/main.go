// Command bootprobe is the smallest Go program groveimg can patch: it has
// the two symbols the trampoline needs. Its entry64 only runs under QEMU.
package main

import "os"

// bootPageTables is where the trampoline builds its page tables.
var bootPageTables [8 * 4096]byte

var sink *[8 * 4096]byte

// entry64 reports RDI/RSI on COM1 and exits QEMU via isa-debug-exit.
func entry64()

func main() {
	sink = &bootPageTables
	if len(os.Args) > 1000 { // never on a host: entry64 does port I/O
		entry64()
	}
}
