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

// accountLocked charges dt of run time to v: its progress clock (relaxed)
// and, for a group member, whether a sibling ran at the same time.
func (v *VCPU) accountLocked(dt int64) {
	if v.sg == nil || dt <= 0 {
		return
	}
	v.progress += dt
	for _, o := range v.sg.vcpus {
		if o != v && o.state == vcpuRunning {
			v.togetherNS += uint64(dt)
			return
		}
	}
	v.aloneNS += uint64(dt)
}
