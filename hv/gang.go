package hv

import (
	"slices"

	"grove/domgrp"
)

// Scheduling groups (docs/scheduling.md). A group with a policy and the
// vCPUs of its opted-in members form a schedGroup:
//
//   - gang: time is cut into slots of one time slice, aligned on every CPU
//     (slot e is [e*slice, (e+1)*slice) of the one nanotime all CPUs share).
//     The first loop to reach a slot plans it (planLocked): either a gang's
//     turn -- each runnable member vCPU gets its own CPU for the whole slot
//     and all stop at its end -- or a free slot. Gang turns go round robin
//     among gangs with runnable members and alternate with free slots while
//     independent vCPUs wait. Gang vCPUs never sit on the per-CPU run queues
//     (they wait in their group, "pooled"), so nothing else can start them.
//     A member that blocks during its turn leaves its CPU to independent
//     vCPUs; if it wakes before the slot ends its CPU is kicked and it runs
//     again, so no member waits off-CPU while a sibling runs.
//   - relaxed: members run independently; each opted-in vCPU has a progress
//     clock (time run). A vCPU more than the bound ahead of its slowest
//     runnable sibling is co-stopped (skipped) until the laggard is within
//     half the bound. A sibling that blocks does not lag: when it wakes its
//     clock is brought level with the leader's.
//
// Everything here runs under Scheduler.mu; now is kernel.Nanotime, passed
// in so that host tests drive it with a fake clock.

// schedGroup is one group with a policy, as the scheduler sees it.
type schedGroup struct {
	id     domgrp.GroupID
	policy domgrp.Policy
	skewNS int64
	vcpus  []*VCPU // opted-in members' vCPUs, in join order
	ctr    groupCounters
}

func (g *schedGroup) gang() bool    { return g != nil && g.policy == domgrp.PolicyGang }
func (g *schedGroup) relaxed() bool { return g != nil && g.policy == domgrp.PolicyRelaxed }

// slotPlan is what every CPU runs during one slot.
type slotPlan struct {
	epoch  int64       // slot number; -1 = none planned yet
	gang   *schedGroup // whose turn it is, nil for a free slot
	assign []*VCPU     // per CPU: the gang member it runs this slot
	// Start skew of this turn: TSCs of the first and last member entries.
	started           int
	firstTSC, lastTSC uint64
}

// isGang reports that v waits in its group rather than on a run queue.
func (v *VCPU) isGang() bool { return v.sg.gang() }

// slotEnd is when the slot holding now ends.
func (s *Scheduler) slotEnd(now int64) int64 {
	sl := s.slice.Load()
	return (now/sl + 1) * sl
}

// planLocked returns the plan of the slot holding now, planning it if it
// is the first call in that slot.
func (s *Scheduler) planLocked(now int64) *slotPlan {
	e := now / s.slice.Load()
	p := &s.plan
	if p.epoch == e {
		return p
	}
	s.closeTurnLocked()
	p.epoch, p.gang, p.started = e, nil, 0
	clear(p.assign)
	defer s.endOverrunsLocked()
	g := s.nextGangLocked()
	if g == nil {
		return p
	}
	p.gang = g
	g.ctr.gangTurns++
	lost := false
	for _, v := range g.vcpus {
		switch v.state {
		case vcpuRunnable:
			s.assignLocked(p, v)
		case vcpuBlocked:
			lost = true
		}
	}
	if lost {
		g.ctr.lost++
	}
	for _, c := range s.cpus {
		if p.assign[c.id] != nil {
			s.wakeLoopLocked(c)
		}
	}
	return p
}

// endOverrunsLocked kicks every CPU still running a gang vCPU that the new
// slot does not give it: a turn ends on every CPU when the first one
// reaches the slot's end, not when each CPU's own timer fires (under QEMU
// a LAPIC timer can fire tens of milliseconds late, and the member would
// run on alone into the next slot).
func (s *Scheduler) endOverrunsLocked() {
	for _, c := range s.cpus {
		if v := c.cur; v != nil && v.isGang() && s.plan.assign[c.id] != v {
			s.kickLocked(v)
		}
	}
}

// nextGangLocked picks the gang whose turn it is, or nil for a free slot:
// round robin among gangs with a runnable member, every other slot while
// independent vCPUs are waiting.
func (s *Scheduler) nextGangLocked() *schedGroup {
	if len(s.gangs) == 0 || s.lastWasGang && s.independentWaitingLocked() {
		s.lastWasGang = false
		return nil
	}
	for i := range s.gangs {
		g := s.gangs[(s.turn+i)%len(s.gangs)]
		if g.runnableLocked() {
			s.turn = (s.turn + i + 1) % len(s.gangs)
			s.lastWasGang = true
			return g
		}
	}
	s.lastWasGang = false
	return nil
}

func (g *schedGroup) runnableLocked() bool {
	for _, v := range g.vcpus {
		if v.state == vcpuRunnable {
			return true
		}
	}
	return false
}

func (s *Scheduler) independentWaitingLocked() bool {
	for _, c := range s.cpus {
		if len(c.runq) > 0 {
			return true
		}
	}
	return false
}

// assignLocked gives v a CPU for the slot: its last CPU if free, else the
// first free one (a gang never has more vCPUs than CPUs: E2BIG).
func (s *Scheduler) assignLocked(p *slotPlan, v *VCPU) {
	if v.lastCPU >= 0 && v.lastCPU < len(p.assign) && p.assign[v.lastCPU] == nil {
		p.assign[v.lastCPU] = v
		return
	}
	for i := range p.assign {
		if p.assign[i] == nil {
			p.assign[i] = v
			return
		}
	}
}

// wakeLoopLocked gets c's loop to look at the plan now: an idle loop is
// woken, one running another vCPU is kicked.
func (s *Scheduler) wakeLoopLocked(c *pcpu) {
	if c.cur != nil && c.cur != s.plan.assign[c.id] {
		s.kickLocked(c.cur)
		return
	}
	c.wake()
}

// closeTurnLocked records the ending turn's start skew.
func (s *Scheduler) closeTurnLocked() {
	p := &s.plan
	if p.gang != nil && p.started > 1 {
		p.gang.ctr.addSkew(int64(p.lastTSC - p.firstTSC))
	}
}

// noteStartLocked records the TSC at which v (assigned on c) first enters
// its guest in the current turn.
func (s *Scheduler) noteStartLocked(c *pcpu, v *VCPU, tsc uint64) {
	p := &s.plan
	if p.gang == nil || p.assign[c.id] != v || v.turnEpoch == p.epoch {
		return
	}
	v.turnEpoch = p.epoch
	if p.started == 0 || tsc < p.firstTSC {
		p.firstTSC = tsc
	}
	if p.started == 0 || tsc > p.lastTSC {
		p.lastTSC = tsc
	}
	p.started++
}

// nextLocked is what c runs next at now: its gang assignment if runnable,
// else an independent vCPU (pickLocked skips co-stopped ones). The run ends
// at the slot's end, so every CPU changes vCPUs at the same boundaries.
func (s *Scheduler) nextLocked(c *pcpu, now int64) (*VCPU, int64) {
	p := s.planLocked(now)
	end := s.slotEnd(now)
	if v := p.assign[c.id]; v != nil && v.state == vcpuRunnable && v.sg == p.gang {
		return v, end
	}
	return s.pickLocked(c, now), end
}

// yieldToGangLocked reports that c runs v, an independent vCPU, while c's
// gang member for this slot is runnable again: v must stop now.
func (s *Scheduler) yieldToGangLocked(c *pcpu, v *VCPU) bool {
	a := s.plan.assign[c.id]
	return a != nil && a != v && a.state == vcpuRunnable && a.sg == s.plan.gang
}

// gangWokeLocked is called when gang vCPU v becomes runnable: during its
// gang's turn its CPU is told at once; otherwise it waits for the next turn.
func (s *Scheduler) gangWokeLocked(v *VCPU) {
	p := &s.plan
	if p.gang == v.sg && !slices.Contains(p.assign, v) {
		s.assignLocked(p, v) // blocked when its turn began: it joins now
	}
	for _, c := range s.cpus {
		if p.assign[c.id] == v {
			s.wakeLoopLocked(c)
			return
		}
	}
	// Not in this slot's plan: the next slot's planner (any loop, at the
	// boundary) starts it; make sure an idle loop is awake then.
	for _, c := range s.cpus {
		if c.cur == nil {
			c.wake()
			return
		}
	}
}

// gangPendingLocked reports a runnable gang vCPU waiting for a turn: idle
// loops must then wake at the next slot boundary to plan it.
func (s *Scheduler) gangPendingLocked() bool {
	for _, g := range s.gangs {
		if g.runnableLocked() {
			return true
		}
	}
	return false
}
