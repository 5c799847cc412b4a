package rcu

import "sync"

// callbacks is the Call queue. One goroutine at a time drains it; it starts
// on the first Call after the queue went empty and exits when it is empty
// again, so an idle State owns no goroutine and needs no Close.
type callbacks struct {
	s *State
	// mu guards the fields below; never held across a grace period or a
	// callback. Lock order: leaf lock.
	mu      sync.Mutex
	cond    sync.Cond
	pending []func()
	queued  uint64 // callbacks ever queued
	ran     uint64 // callbacks ever run
	running bool   // the drain goroutine exists
}

func (c *callbacks) init(s *State) {
	c.s = s
	c.cond.L = &c.mu
}

// Call queues fn to run after a grace period: every read-side section that
// was in progress when Call was made has ended before fn runs. Callbacks run
// one at a time, in Call order, on a background goroutine. Call never
// blocks, so it is safe inside a read-side section.
func (s *State) Call(fn func()) {
	c := &s.cb
	c.mu.Lock()
	c.pending = append(c.pending, fn)
	c.queued++
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.drain()
	}
}

// drain runs batches until the queue is empty. Each batch was queued before
// its grace period started, so the grace period covers all of it.
func (c *callbacks) drain() {
	for {
		c.mu.Lock()
		batch := c.pending
		c.pending = nil
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()

		c.s.Synchronize()
		for _, fn := range batch {
			fn()
		}

		c.mu.Lock()
		c.ran += uint64(len(batch))
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// Barrier returns once every callback queued before the call has run. It must
// not be called from a callback or inside a read-side section.
func (s *State) Barrier() {
	c := &s.cb
	c.mu.Lock()
	defer c.mu.Unlock()
	target := c.queued
	for c.ran < target {
		c.cond.Wait()
	}
}
