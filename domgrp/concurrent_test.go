package domgrp_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"grove/domgrp"
	"grove/domgrp/domgrptest"
	"grove/errno"
	"grove/rcu"
)

// TestConcurrentReadersSeeConsistentSnapshots runs readers that check the
// invariants of every snapshot they load while writers create, destroy,
// join, leave, pause, unpause, add and remove. At the end every group is
// unpaused and no registered domain may be left paused.
func TestConcurrentReadersSeeConsistentSnapshots(t *testing.T) {
	const readers, writers, doms = 2, 3, 32
	ops := 10_000
	if testing.Short() {
		ops = 3_000
	}
	rc := rcu.New(readers + writers)
	tab := domgrp.New(rc, 16)
	fakes := &registry{doms: make([]*domgrptest.Domain, doms)}
	for i := range doms {
		must(t, fakes.add(tab, domgrp.DomID(i)))
	}
	var stop atomic.Bool
	var checks atomic.Int64
	var rwg, wwg sync.WaitGroup
	for i := range readers {
		rwg.Go(func() { checkLoop(t, tab, rc.Reader(i), &stop, &checks) })
	}
	for i := range writers {
		wwg.Go(func() { writeLoop(t, tab, rc.Reader(readers+i), fakes, uint64(i), ops) })
	}
	wwg.Wait()
	stop.Store(true)
	rwg.Wait()
	t.Logf("%d snapshots checked, %d grace periods", checks.Load(), rc.GracePeriods())
	unpauseAll(t, tab, rc.Reader(0))
	checkNothingPaused(t, tab, rc.Reader(0), fakes)
}

func checkLoop(t *testing.T, tab *domgrp.Table, r *rcu.Reader, stop *atomic.Bool, n *atomic.Int64) {
	for !stop.Load() {
		r.Lock()
		err := checkInvariants(tab.Load(r))
		r.Unlock()
		if err != nil {
			t.Errorf("reader %d: %v", r.Slot(), err)
			return
		}
		n.Add(1)
	}
}

func writeLoop(t *testing.T, tab *domgrp.Table, r *rcu.Reader, fakes *registry, seed uint64, ops int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for range ops {
		d := domgrp.DomID(rng.IntN(len(fakes.doms)))
		g := domgrp.GroupID(rng.IntN(17))
		var err error
		switch rng.IntN(9) {
		case 0:
			_, err = tab.Create(g)
		case 1:
			err = tab.Destroy(g)
		case 2, 3:
			err = tab.Join(d, g)
		case 4:
			err = tab.Leave(d)
		case 5:
			_, err = tab.Pause(r, d, g)
		case 6:
			_, err = tab.Unpause(r, g)
		case 7:
			err = tab.RemoveDomain(d)
		case 8:
			err = fakes.add(tab, d)
		}
		var e errno.Errno
		if err != nil && !errors.As(err, &e) {
			t.Errorf("writer: %v is not an errno", err)
		}
	}
}

func unpauseAll(t *testing.T, tab *domgrp.Table, r *rcu.Reader) {
	for g := domgrp.GroupID(1); g < 16; g++ {
		for {
			if _, err := tab.Unpause(r, g); err != nil {
				break
			}
		}
	}
}

// registry holds the fake currently registered under each id. A removed
// domain keeps its pauses (it is dying), so a re-added id gets a new fake.
type registry struct {
	mu   sync.Mutex
	doms []*domgrptest.Domain
}

func (g *registry) add(tab *domgrp.Table, id domgrp.DomID) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := domgrptest.New(id)
	err := tab.AddDomain(f)
	if err == nil {
		g.doms[id] = f
	}
	return err
}

// checkNothingPaused: once every group is unpaused, no registered domain
// may hold a pause, and none may have been waited on while running.
func checkNothingPaused(t *testing.T, tab *domgrp.Table, r *rcu.Reader, fakes *registry) {
	r.Lock()
	defer r.Unlock()
	s := tab.Load(r)
	for g := range s.Groups() {
		if g.Pauses() != 0 {
			t.Errorf("group %d still paused", g.ID())
		}
	}
	for id, d := range s.Domains() {
		f := fakes.doms[id]
		if f.Count() != 0 || f.BadWaits() != 0 {
			t.Errorf("dom%d in group %d: count %d, waits while running %d", id, d.Group, f.Count(), f.BadWaits())
		}
	}
}
