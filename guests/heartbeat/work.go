package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"grove/kernel"
)

// Per-vCPU work, so that a test can see a multi-vCPU guest run on all its
// vCPUs at once. One worker per vCPU, locked to a thread pinned there,
// counts iterations of a CPU-bound loop in short busy intervals and yields
// between them (the runtime's asynchronous preemption is off on Grove, and
// the beat's goroutine needs a P).
//
// Evidence of parallelism: around each interval the worker reads every
// other worker's counter, and it reads the TSC between every two steps from
// the first counter read to the last. If no two TSC reads lie more than
// maxGap apart, its vCPU ran the whole interval without being descheduled
// (by the guest kernel or by the hypervisor: either takes far longer, since
// the other worker never blocks and so keeps a CPU for a whole time slice).
// If another counter advanced within such an interval, that worker's vCPU
// ran at the same time as this one.

const (
	intervalIters = 10_000
	maxGapNS      = 50_000 // a world switch and back under QEMU TCG is slower
)

// worker is one vCPU's counters, a cache line each.
type worker struct {
	count    atomic.Uint64
	together atomic.Bool // an interval since the last report proved it
	_        [64 - 8 - 4]byte
}

type workers []worker

// startWorkers starts one worker per online vCPU.
func startWorkers() workers {
	ws := make(workers, kernel.OnlineCPUs())
	gapTicks := kernel.TSCHz() * maxGapNS / 1_000_000_000
	for i := range ws {
		go ws.run(i, gapTicks)
	}
	return ws
}

// run is worker i's loop, on a thread pinned to vCPU i.
func (ws workers) run(i int, gapTicks uint64) {
	runtime.LockOSThread()
	if err := kernel.PinThread(i); err != nil {
		fmt.Printf("heartbeat: worker %d: pinning to vCPU %d: %v\n", i, i, err)
		return
	}
	before, after := make([]uint64, len(ws)), make([]uint64, len(ws))
	for {
		gap := ws.interval(i, before, after)
		if together(before, after, i, gap, gapTicks) {
			ws[i].together.Store(true)
		}
		runtime.Gosched()
	}
}

// interval runs one busy interval of worker self and returns the longest
// time (TSC ticks) between two steps of it, snapshots included.
func (ws workers) interval(self int, before, after []uint64) (gap uint64) {
	step := func(prev uint64) uint64 {
		t := kernel.ReadTSC()
		gap = max(gap, t-prev) // a TSC that went back counts as a huge gap
		return t
	}
	prev := kernel.ReadTSC()
	ws.snapshot(before)
	prev = step(prev)
	c := &ws[self].count
	for range intervalIters {
		c.Add(1)
		prev = step(prev)
	}
	ws.snapshot(after)
	step(prev)
	return gap
}

func (ws workers) snapshot(into []uint64) {
	for j := range ws {
		into[j] = ws[j].count.Load()
	}
}

// report returns the beat line's suffix for the work done since the last
// report (last is updated) and whether any interval proved parallelism.
func (ws workers) report(last []uint64) string {
	now := make([]uint64, len(ws))
	ws.snapshot(now)
	both := false
	for i := range ws {
		both = ws[i].together.Swap(false) || both
	}
	s := workSuffix(last, now, both)
	copy(last, now)
	return s
}

// together reports whether another worker's counter advanced (after >
// before) during an interval of worker self whose longest gap stayed within
// limit: then both ran at the same time.
func together(before, after []uint64, self int, gap, limit uint64) bool {
	if gap > limit {
		return false
	}
	for j := range before {
		if j != self && after[j] > before[j] {
			return true
		}
	}
	return false
}

// workSuffix formats " vcpus=N work=a,b,... together=yes|no", work being
// iterations per vCPU between the two counter snapshots.
func workSuffix(last, now []uint64, both bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, " vcpus=%d work=", len(now))
	for i := range now {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, now[i]-last[i])
	}
	yes := "no"
	if both {
		yes = "yes"
	}
	fmt.Fprintf(&b, " together=%s", yes)
	return b.String()
}
