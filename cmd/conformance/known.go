package main

import (
	"slices"
	"strings"
)

// known lists the tests that pass directly under QEMU but that Grove is
// not expected to pass, each with the reason: devices Grove does not
// model, or firmware it does not run. The list stays short; anything else that passes directly and not
// under Grove makes the runner fail.
var known = map[string]string{
	"intel_iommu": "needs QEMU's intel-iommu and edu PCI devices; Grove's domains have no PCI devices",
	"realmode": "its \"sti inhibit\" case halts in real mode with interrupts on, and directly only the timer tick " +
		"SeaBIOS leaves running wakes it (PIT IRQ0 through the 8259 PIC SeaBIOS programmed, to SeaBIOS's handler in " +
		"the IVT; with -machine pit=off it hangs there directly too); Grove starts multiboot kernels without " +
		"firmware. Its other cases pass under Grove",
}

// knownList is known sorted by test, as [test, reason] pairs.
func knownList() [][2]string {
	var out [][2]string
	for t, why := range known {
		out = append(out, [2]string{t, why})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}
