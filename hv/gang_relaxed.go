package hv

// Relaxed co-scheduling (VMware's "relaxed co-scheduling"): progress clocks
// and co-stops, under Scheduler.mu.

// laggardLocked is the smallest progress among v's runnable or running
// siblings (v excluded), and whether there is one.
func (v *VCPU) laggardLocked() (int64, bool) {
	var low int64
	found := false
	for _, o := range v.sg.vcpus {
		if o == v || (o.state != vcpuRunnable && o.state != vcpuRunning) {
			continue
		}
		if !found || o.progress < low {
			low, found = o.progress, true
		}
	}
	return low, found
}

// coStoppedLocked reports whether relaxed member v must not run now: it is
// more than the bound ahead of its slowest runnable sibling, or was stopped
// for that and the laggard is not yet within half the bound. It counts
// co-stops and their time.
func (v *VCPU) coStoppedLocked(now int64) bool {
	if !v.sg.relaxed() {
		return false
	}
	low, ok := v.laggardLocked()
	ahead := v.progress - low
	g := v.sg
	switch {
	case v.costopAt == 0 && ok && ahead > g.skewNS:
		v.costopAt = now
		g.ctr.costops++
		return true
	case v.costopAt != 0 && (!ok || ahead <= g.skewNS/2):
		g.ctr.costopNS += uint64(now - v.costopAt)
		v.costopAt = 0
		return false
	}
	return v.costopAt != 0
}

// levelLocked brings a relaxed member that was blocked or paused up to its
// siblings on waking: it was idle, not behind.
func (v *VCPU) levelLocked() {
	if !v.sg.relaxed() {
		return
	}
	var lead int64
	for _, o := range v.sg.vcpus {
		if o != v && (o.state == vcpuRunnable || o.state == vcpuRunning) {
			lead = max(lead, o.progress)
		}
	}
	v.progress = max(v.progress, lead)
}

// accountLocked charges v's run from start to end (one guest entry to its
// exit): its progress clock (relaxed) and, for a group member, how much of
// it overlapped a sibling's run -- the sibling's current run if it is in
// its guest now, else its last one.
func (v *VCPU) accountLocked(start, end int64) {
	dt := end - start
	if v.sg == nil || dt <= 0 {
		return
	}
	v.progress += dt
	var tog int64
	for _, o := range v.sg.vcpus {
		if o == v {
			continue
		}
		os, oe := o.segStart, o.segEnd
		if o.state == vcpuRunning && o.curStart != 0 {
			os, oe = o.curStart, end
		}
		tog = max(tog, min(end, oe)-max(start, os))
	}
	tog = min(tog, dt)
	v.togetherNS += uint64(tog)
	v.aloneNS += uint64(dt - tog)
	v.segStart, v.segEnd = start, end
}
