// Command heartbeat is a Go guest: the stock Go runtime on Grove's kernel
// layer in its guest flavour (build tag groveguest: console and timers are
// hypercalls, idle is HLT). It prints "beat N" every period (default 100 ms;
// command-line word period=DURATION) so tests can watch it make progress;
// crashafter=N makes it dereference nil after N beats.
//
// With more than one vCPU it also runs one CPU-bound worker per vCPU
// (work.go) and, once a second, adds to the beat line what each did and
// whether two of them provably ran at the same time:
//
//	beat 0000000a vcpus=2 work=151000,148000 together=yes
//
// work=on runs the workers on one vCPU too (a CPU-bound guest), work=off
// never.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"grove/kernel"
)

func main() {
	period, crashAfter := 100*time.Millisecond, -1
	work := kernel.OnlineCPUs() > 1
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "work="); ok {
			work = v == "on"
		}
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
	var ws workers
	var last []uint64
	if work {
		ws = startWorkers()
		last = make([]uint64, len(ws))
		fmt.Printf("heartbeat: %d workers, one per vCPU\n", len(ws))
	}
	t := time.NewTicker(period)
	reported := time.Now()
	for n := 1; ; n++ {
		<-t.C
		suffix := ""
		if ws != nil && time.Since(reported) >= time.Second {
			suffix, reported = ws.report(last), time.Now()
		}
		fmt.Printf("beat %08x%s\n", n, suffix)
		if n == crashAfter {
			var p *[4]int
			p[2]++ // a Go panic in the guest: the guest kernel reports a crash
		}
	}
}
