package hv

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"grove/domgrp"
)

// A model of the scheduler's policy core driven with a fake clock and fake
// CPUs: the same planLocked/nextLocked/pickLocked/enqueueLocked the loops
// use, with random blocks, wake-ups, pauses and policy changes, and the
// invariants checked at every simulated millisecond:
//   - a vCPU runs on at most one CPU and sits on at most one run queue;
//     a gang vCPU is never on a run queue;
//   - gang: while any opted-in member of a gang runs, none of its runnable
//     siblings is off-CPU;
//   - relaxed: a running member is never more than the bound plus one
//     slice ahead of its slowest runnable sibling;
//   - nothing starves: a vCPU runnable for 40 slots has run in them.
//
// With late timers (odd seeds), a run goes on past its slot's end by up
// to two slices, as QEMU's LAPIC timers do, unless a kick (an IPI, here
// at once) interrupts it after its end.

const (
	modelSlice = int64(10 * time.Millisecond)
	modelStep  = int64(time.Millisecond)
)

type modelCPU struct {
	cur   *VCPU
	until int64 // the run's deadline
	late  int64 // how late its timer fires
}

type modelRun struct {
	t       *testing.T
	s       *Scheduler
	cpus    []modelCPU
	rng     *rand.Rand
	vcpus   []*VCPU
	gang    *schedGroup
	relax   *schedGroup
	waiting map[*VCPU]int64 // runnable since
	now     int64
	changed int64 // slot of the last policy change: it takes effect at the next
	late    bool  // timers fire late
	kicked  map[int]bool
}

func newModelRun(t *testing.T, seed int64, ncpu int) *modelRun {
	s := newScheduler(time.Duration(modelSlice), ncpu)
	m := &modelRun{t: t, s: s, cpus: make([]modelCPU, ncpu), rng: rand.New(rand.NewSource(seed)),
		waiting: map[*VCPU]int64{}, late: seed%2 == 1, kicked: map[int]bool{}}
	s.kickCPU = func(cpu int) { m.kicked[cpu] = true }
	h := &Hypervisor{sched: s}
	mk := func(n int) []*VCPU {
		d := &Domain{ID: DomID(len(m.vcpus) + 1), hv: h, state: domRunning}
		for i := 0; i < n; i++ {
			v := &VCPU{dom: d, id: i, lastCPU: -1, state: vcpuPaused}
			d.vcpus = append(d.vcpus, v)
			m.vcpus = append(m.vcpus, v)
		}
		return d.vcpus
	}
	m.gang = &schedGroup{id: 1, policy: domgrp.PolicyGang, vcpus: mk(ncpu)}
	m.relax = &schedGroup{id: 2, policy: domgrp.PolicyRelaxed, skewNS: 3 * modelSlice, vcpus: mk(2)}
	mk(2)
	mk(1)
	s.groups = map[domgrp.GroupID]*schedGroup{1: m.gang, 2: m.relax}
	s.gangs = []*schedGroup{m.gang}
	s.mu.Lock()
	for _, g := range []*schedGroup{m.gang, m.relax} {
		for _, v := range g.vcpus {
			v.sg = g
		}
	}
	for _, v := range m.vcpus {
		s.enqueueLocked(v)
	}
	s.mu.Unlock()
	return m
}

// stop ends c's run: the vCPU blocks, or goes back to be scheduled.
func (m *modelRun) stop(i int, block bool) {
	c := &m.cpus[i]
	v := c.cur
	c.cur = nil
	m.s.cpus[i].cur = nil
	if block {
		v.state = vcpuBlocked
		return
	}
	m.s.enqueueLocked(v)
}

func (m *modelRun) step() {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range m.cpus {
		c := &m.cpus[i]
		if c.cur == nil {
			continue
		}
		c.cur.accountLocked(m.now-modelStep, m.now)
		switch {
		case m.now >= c.until+c.late, s.yieldToGangLocked(s.cpus[i], c.cur), c.cur.coStoppedLocked(m.now):
			m.stop(i, false)
		case m.rng.Intn(40) == 0:
			m.stop(i, true)
		}
	}
	for _, v := range m.vcpus { // wake-ups
		if v.state == vcpuBlocked && m.rng.Intn(8) == 0 {
			s.enqueueLocked(v)
		}
	}
	for i := range m.cpus {
		if m.cpus[i].cur == nil {
			m.run(i)
		}
	}
	m.interrupt()
}

// run starts the next vCPU on CPU i.
func (m *modelRun) run(i int) {
	s := m.s
	v, end := s.nextLocked(s.cpus[i], m.now)
	if v == nil {
		return
	}
	v.state, v.cpu, s.cpus[i].cur = vcpuRunning, i, v
	m.cpus[i] = modelCPU{cur: v, until: end}
	if m.late && m.rng.Intn(3) == 0 {
		m.cpus[i].late = m.rng.Int63n(2*modelSlice/modelStep) * modelStep
	}
}

// interrupt stops at once the runs that a kick ends: a gang member woken
// during its turn takes its CPU from a filler, and a run past its
// deadline ends (a loop re-enters a kicked guest before its deadline).
func (m *modelRun) interrupt() {
	s := m.s
	for again := true; again; {
		again = false
		for i := range m.cpus {
			c := &m.cpus[i]
			kicked := m.kicked[i]
			delete(m.kicked, i)
			if c.cur != nil && (s.yieldToGangLocked(s.cpus[i], c.cur) || kicked && m.now >= c.until) {
				m.stop(i, false)
				m.run(i) // may plan a slot and kick others
				again = true
			}
		}
	}
}

func (m *modelRun) check() error {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	onCPU := map[*VCPU]bool{}
	for _, c := range m.cpus {
		if c.cur != nil {
			if onCPU[c.cur] {
				return fmt.Errorf("a vCPU runs on two CPUs")
			}
			onCPU[c.cur] = true
		}
	}
	queued := map[*VCPU]int{}
	for _, c := range s.cpus {
		for _, v := range c.runq {
			queued[v]++
			if queued[v] > 1 || v.isGang() || v.state != vcpuRunnable {
				return fmt.Errorf("vCPU %d.%d queued wrongly (count %d, gang %v, state %v)", v.dom.ID, v.id, queued[v], v.isGang(), v.state)
			}
		}
	}
	for _, v := range m.vcpus {
		if v.state == vcpuRunnable && !v.isGang() && queued[v] == 0 {
			return fmt.Errorf("runnable vCPU %d.%d is on no run queue (lost)", v.dom.ID, v.id)
		}
	}
	if err := m.checkGang(onCPU); err != nil {
		return err
	}
	if err := m.checkRelaxed(onCPU); err != nil {
		return err
	}
	return m.checkStarvation(onCPU)
}

func (m *modelRun) checkGang(onCPU map[*VCPU]bool) error {
	g := m.gang
	if !g.gang() || m.unsettled() {
		return nil
	}
	running := false
	for _, v := range g.vcpus {
		running = running || onCPU[v]
	}
	for _, v := range g.vcpus {
		if running && v.state == vcpuRunnable && !onCPU[v] {
			return fmt.Errorf("gang member %d runnable off-CPU while a sibling runs", v.id)
		}
	}
	return nil
}

// unsettled reports that a policy change has not taken effect: it does at
// the next slot a loop plans (with late timers, that can be after the next
// slot has begun).
func (m *modelRun) unsettled() bool {
	return m.now/modelSlice == m.changed || m.s.plan.epoch <= m.changed
}

func (m *modelRun) checkRelaxed(onCPU map[*VCPU]bool) error {
	for _, g := range []*schedGroup{m.relax, m.gang} {
		if err := m.checkRelaxedGroup(g, onCPU); err != nil {
			return err
		}
	}
	return nil
}

func (m *modelRun) checkRelaxedGroup(g *schedGroup, onCPU map[*VCPU]bool) error {
	if !g.relaxed() || m.unsettled() {
		return nil
	}
	for _, v := range g.vcpus {
		if !onCPU[v] {
			continue
		}
		if low, ok := v.laggardLocked(); ok && v.progress-low > g.skewNS+modelSlice {
			return fmt.Errorf("relaxed member %d is %v ahead (bound %v)", v.id, time.Duration(v.progress-low), time.Duration(g.skewNS))
		}
	}
	return nil
}

func (m *modelRun) checkStarvation(onCPU map[*VCPU]bool) error {
	for _, v := range m.vcpus {
		switch {
		case onCPU[v] || v.state != vcpuRunnable:
			delete(m.waiting, v)
		case m.waiting[v] == 0:
			m.waiting[v] = m.now + 1
		case m.now-m.waiting[v] > 40*modelSlice:
			return fmt.Errorf("vCPU %d.%d runnable for %v without running", v.dom.ID, v.id, time.Duration(m.now-m.waiting[v]))
		}
	}
	return nil
}

// mutate changes policies now and then, as grovectl would.
func (m *modelRun) mutate() {
	if m.rng.Intn(500) != 0 {
		return
	}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	old := m.gang // regroup makes new groups; the old keep their policy
	g := &schedGroup{id: old.id, vcpus: old.vcpus, ctr: old.ctr, skewNS: 2 * modelSlice,
		policy: []domgrp.Policy{domgrp.PolicyNone, domgrp.PolicyGang, domgrp.PolicyRelaxed}[m.rng.Intn(3)]}
	m.gang = g
	m.changed = m.now / modelSlice
	s.groups[g.id] = g
	s.gangs = nil
	if g.gang() {
		s.gangs = []*schedGroup{g}
	}
	for _, v := range g.vcpus {
		s.setGroupLocked(v, nil)
	}
	for _, v := range g.vcpus {
		s.setGroupLocked(v, g)
	}
}

func TestGangModel(t *testing.T) {
	for seed := int64(0); seed < 30; seed++ {
		for _, ncpu := range []int{2, 4} {
			t.Run(fmt.Sprintf("seed=%d/cpus=%d", seed, ncpu), func(t *testing.T) {
				m := newModelRun(t, seed, ncpu)
				for ; m.now < 20*int64(time.Second); m.now += modelStep {
					m.mutate()
					m.step()
					if err := m.check(); err != nil {
						t.Fatalf("at %v: %v", time.Duration(m.now), err)
					}
				}
				if m.gang.ctr.gangTurns == 0 && m.gang.gang() {
					t.Fatal("the gang never had a turn")
				}
			})
		}
	}
}
