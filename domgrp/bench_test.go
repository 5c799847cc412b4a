package domgrp_test

import (
	"fmt"
	"testing"
	"time"

	"grove/domgrp"
	"grove/domgrp/domgrptest"
	"grove/rcu"
)

// memberCost stands in for a real domain's pause work (an IPI and a
// descheduling check); it keeps the per-member figure from being dominated
// by the fake's own mutex.
const memberCost = 200 * time.Nanosecond

// BenchmarkPauseGroup measures one group pause plus the matching unpause
// for groups of 1 to 512 members, reported per member: each member costs
// one Pause, one WaitDescheduled and one Unpause of memberCost each.
func BenchmarkPauseGroup(b *testing.B) {
	for _, size := range []int{1, 8, 64, 512} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) { benchPause(b, size, false) })
	}
}

// BenchmarkPauseGroupOrdered is BenchmarkPauseGroup with a pause order
// naming every member (join order reversed): the walk is built once per
// pause, so it should cost what the unordered pause does.
func BenchmarkPauseGroupOrdered(b *testing.B) {
	for _, size := range []int{1, 8, 64, 512} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) { benchPause(b, size, true) })
	}
}

func benchPause(b *testing.B, size int, ordered bool) {
	rc := rcu.New(1)
	tab := domgrp.New(rc, 0)
	g, err := tab.Create(0)
	if err != nil {
		b.Fatal(err)
	}
	var order []domgrp.DomID
	for i := 1; i <= size; i++ {
		d := domgrptest.New(domgrp.DomID(i)).WithCost(memberCost)
		if tab.AddDomain(d) != nil || tab.Join(d.ID(), g) != nil {
			b.Fatal("setup failed")
		}
		if ordered {
			order = append([]domgrp.DomID{d.ID()}, order...)
		}
	}
	r := rc.Reader(0)
	for b.Loop() {
		if _, err := tab.PauseOrdered(r, 0, g, order); err != nil {
			b.Fatal(err)
		}
		if _, err := tab.Unpause(r, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/member")
}

// BenchmarkSnapshotRead is the scheduler's path: find a domain's group and
// walk its members under a read-side section.
func BenchmarkSnapshotRead(b *testing.B) {
	rc := rcu.New(1)
	tab := domgrp.New(rc, 0)
	g, _ := tab.Create(0)
	for i := 1; i <= 8; i++ {
		_ = tab.AddDomain(domgrptest.New(domgrp.DomID(i)))
		_ = tab.Join(domgrp.DomID(i), g)
	}
	r := rc.Reader(0)
	n := 0
	for b.Loop() {
		r.Lock()
		s := tab.Load(r)
		d, _ := s.Domain(3)
		n += s.Group(d.Group).Len()
		r.Unlock()
	}
	_ = n
}
