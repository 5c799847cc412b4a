//go:build !linux

package rcu

import "time"

// threadCPU: no per-thread CPU clock here; benchmarks report wall time only.
func threadCPU() (time.Duration, bool) { return 0, false }
