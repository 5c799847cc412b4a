package hv

import (
	"fmt"
	"time"

	"grove/domgrp"
	"grove/hv/abi"
	"grove/kernel/selftest"
	"grove/rcu"
)

func init() {
	selftest.Register(selftest.Test{Name: "hv/gang-scheduling", Run: testGangScheduling, Timeout: 3 * time.Minute})
}

// testGangScheduling: a group of as many spinning 1-vCPU domains as CPUs,
// beside as many spinning competitors. The members' affinity is CPU 0, so
// scheduled independently they never run together; as a gang they run
// together (the hypervisor's own alone/together accounting), and the gang's
// start skew is measured.
func testGangScheduling() error {
	h, n, img, err := spinSetup()
	if h == nil {
		return err
	}
	defer h.rcu.Barrier() // last: destroyed domains' pages are back before the next test
	var members []domgrp.DomID
	for i := 0; i < 2*n; i++ {
		// The members may run only on CPU 0 unless they are a gang (a gang
		// places its members itself): apart they never run together.
		var aff uint64
		if i < n {
			aff = 1
		}
		d, err := h.CreateDomain(Config{Name: fmt.Sprintf("selftest-gang%d", i), MemoryMB: 4, Image: img, Affinity: aff})
		if err != nil {
			return err
		}
		defer h.Destroy(d)
		if i < n {
			members = append(members, domgrp.DomID(d.ID))
		}
		if err := d.Unpause(); err != nil {
			return err
		}
	}
	gid, err := h.groups.Create(0)
	if err != nil {
		return err
	}
	defer h.groups.Destroy(gid)
	err = h.withControlReader(func(r *rcu.Reader) error {
		for _, m := range members {
			if err := h.joinGroup(r, m, gid); err != nil {
				return err
			}
			if err := h.setGang(r, m, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer h.withControlReader(func(r *rcu.Reader) error {
		for _, m := range members {
			h.joinGroup(r, m, domgrp.NullGroup)
		}
		return nil
	})
	// Relaxed first (it only tracks), for the accounting to compare with.
	ran0 := h.ranNS()
	none, _, err := togetherUnder(h, gid, domgrp.PolicyRelaxed, abi.MaxSkewNS)
	if err != nil {
		return err
	}
	ran1 := h.ranNS()
	gang, st, err := togetherUnder(h, gid, domgrp.PolicyGang, 0)
	if err != nil {
		return err
	}
	ran2 := h.ranNS()
	fmt.Printf("hv: gang of %d on %d CPUs: together %.0f%% of run time (%.0f%% without gang); start skew p50 %v p99 %v max %v over %d turns; guest CPU time gang/none %.2f\n",
		n, n, 100*gang, 100*none, time.Duration(st.SkewP50), time.Duration(st.SkewP99), time.Duration(st.SkewMax), st.SkewSamples,
		float64(ran2-ran1)/float64(max(ran1-ran0, 1)))
	// How close to 100% the share together gets depends on how fast QEMU
	// delivers the IPIs and timers that start and end a turn (milliseconds
	// on a loaded host: docs/scheduling.md), so the test wants turns that
	// started all members and clearly more time together than without the
	// gang; the invariant itself is model-tested.
	if st.GangTurns == 0 || st.SkewSamples == 0 {
		return fmt.Errorf("no gang turns started (%d planned, %d measured)", st.GangTurns, st.SkewSamples)
	}
	if gang < none+0.1 { // 17% against 0% seen at load average 4; the model test holds the invariant
		return fmt.Errorf("members ran together %.0f%% of the time as a gang, %.0f%% without", 100*gang, 100*none)
	}
	return gangPauseAndOptOut(h, gid, members)
}

// gangPauseAndOptOut: pausing a member leaves the others running alone (no
// together time); unpausing brings it back into the turns; opting a member
// out of a gang of two leaves turns with a single member (no start skew to
// measure).
func gangPauseAndOptOut(h *Hypervisor, gid domgrp.GroupID, members []domgrp.DomID) error {
	d, _ := h.Domain(DomID(members[0]))
	if err := d.Pause(); err != nil {
		return err
	}
	_, st, err := togetherUnder(h, gid, domgrp.PolicyGang, 0)
	if err != nil {
		return err
	}
	// (A run that began before the pause may still overlap a little.)
	if len(members) == 2 && together(st)*20 > total(st) {
		return fmt.Errorf("with d%d paused its sibling still ran %v of %v together", d.ID,
			time.Duration(together(st)), time.Duration(total(st)))
	}
	if err := d.Unpause(); err != nil {
		return err
	}
	// Up to 3 s: on a loaded host a QEMU vCPU thread can miss a whole
	// second; a gang that never comes back still fails.
	for try := 0; try < 3 && (try == 0 || together(st) == 0 || st.SkewSamples == 0); try++ {
		if _, st, err = togetherUnder(h, gid, domgrp.PolicyGang, 0); err != nil {
			return err
		}
	}
	if together(st) == 0 || st.SkewSamples == 0 {
		return fmt.Errorf("after unpause no turn started both members (together %v, %d starts)", time.Duration(together(st)), st.SkewSamples)
	}
	if len(members) != 2 {
		return nil
	}
	err = h.withControlReader(func(r *rcu.Reader) error { return h.setGang(r, members[1], false) })
	if err != nil {
		return err
	}
	if _, st, err = togetherUnder(h, gid, domgrp.PolicyGang, 0); err != nil {
		return err
	}
	if st.SkewSamples != 0 || st.GangTurns == 0 {
		return fmt.Errorf("a gang of one: %d turns, %d measured starts of two members", st.GangTurns, st.SkewSamples)
	}
	return nil
}

func total(st abi.GroupStats) uint64 {
	var t uint64
	for _, v := range st.VCPUs {
		t += v.TogetherNS + v.AloneNS
	}
	return t
}

func together(st abi.GroupStats) uint64 {
	var t uint64
	for _, v := range st.VCPUs {
		t += v.TogetherNS
	}
	return t
}

// togetherUnder sets gid's policy, lets it run a second, and returns the
// share of its members' run time spent with a sibling running.
func togetherUnder(h *Hypervisor, gid domgrp.GroupID, p domgrp.Policy, skew uint64) (float64, abi.GroupStats, error) {
	var st abi.GroupStats
	err := h.withControlReader(func(r *rcu.Reader) error {
		if err := h.setGroupPolicy(r, gid, p, skew); err != nil {
			return err
		}
		_, err := h.groupStats(r, gid, true)
		return err
	})
	if err != nil {
		return 0, st, err
	}
	time.Sleep(time.Second)
	err = h.withControlReader(func(r *rcu.Reader) error {
		st, err = h.groupStats(r, gid, true)
		return err
	})
	var alone, together uint64
	for _, v := range st.VCPUs {
		alone, together = alone+v.AloneNS, together+v.TogetherNS
	}
	if alone+together == 0 {
		return 0, st, fmt.Errorf("policy %d: the members never ran", p)
	}
	return float64(together) / float64(alone+together), st, err
}

// ranNS is the guest run time the scheduler has given on all CPUs.
func (h *Hypervisor) ranNS() int64 {
	h.sched.mu.Lock()
	defer h.sched.mu.Unlock()
	return h.sched.ranNS
}
