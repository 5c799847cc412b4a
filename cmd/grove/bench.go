package main

import (
	"fmt"
	"os"

	"grove/hv"
)

// exitBenchRounds is how many runs of the bench guest each exit path gets
// (hv.ExitBench); the benchmark keeps each path's best round.
const exitBenchRounds = 5

// exitBench runs hv.ExitBench on the hypervisor the boot started, or a new
// one, and returns the exit status for kernel.Shutdown.
func exitBench() int {
	h := hyp
	if h == nil {
		var err error
		if h, err = hv.Start(0); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
	}
	if err := h.ExitBench(os.Stdout, exitBenchRounds); err != nil {
		fmt.Fprintf(os.Stderr, "bench: exits: %v\n", err)
		return 1
	}
	fmt.Println("bench: exits done")
	return 0
}
