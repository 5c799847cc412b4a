package pc

import (
	"sync"
	"sync/atomic"
)

// devClock is a Clock the test moves by hand.
type devClock struct{ ns atomic.Int64 }

func (c *devClock) Nanotime() int64  { return c.ns.Load() }
func (c *devClock) TSC() uint64      { return uint64(c.ns.Load()) * 2 }
func (c *devClock) TSCHz() uint64    { return 2e9 }
func (c *devClock) set(ns int64)     { c.ns.Store(ns) }
func (c *devClock) advance(ns int64) { c.ns.Add(ns) }

// lineLog is an IRQ line that remembers its level and counts rising edges.
type lineLog struct {
	mu     sync.Mutex
	high   bool
	rises  int
	levels []bool
}

func (l *lineLog) SetLevel(high bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if high && !l.high {
		l.rises++
	}
	l.high = high
	l.levels = append(l.levels, high)
}

func (l *lineLog) state() (high bool, rises int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.high, l.rises
}

// msgLog is a Sink that keeps what it was sent.
type msgLog struct {
	mu   sync.Mutex
	msgs []Msg
}

func (s *msgLog) Send(m Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
}

func (s *msgLog) take() []Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs
	s.msgs = nil
	return m
}
