// Command heartbeat is a Go guest: the stock Go runtime on Grove's kernel
// layer in its guest flavour (build tag groveguest: console and timers are
// hypercalls, idle is HLT). It prints "beat N" every period (default 100 ms;
// command-line word period=DURATION) so tests can watch it make progress;
// crashafter=N makes it dereference nil after N beats.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	_ "grove/kernel"
)

func main() {
	period, crashAfter := 100*time.Millisecond, -1
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "crashafter="); ok {
			fmt.Sscanf(v, "%d", &crashAfter)
		}
		if v, ok := strings.CutPrefix(a, "period="); ok {
			if d, err := time.ParseDuration(v); err == nil && d > 0 {
				period = d
			}
		}
	}
	fmt.Printf("heartbeat: Go %s guest up, beating every %v\n", goVersion(), period)
	t := time.NewTicker(period)
	for n := 1; ; n++ {
		<-t.C
		fmt.Printf("beat %08x\n", n)
		if n == crashAfter {
			var p *[4]int
			p[2]++ // a Go panic in the guest: the guest kernel reports a crash
		}
	}
}
