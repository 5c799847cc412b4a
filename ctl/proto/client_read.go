package proto

import (
	"errors"
	"fmt"
	"io"
	"net"
)

// read is the client's one reader: it routes responses to their callers
// and events to subscribers until the connection ends. Lines that are not
// messages are skipped (serial noise); a response nobody waits for (its
// call timed out) is dropped.
func (c *Client) read() {
	dec := NewDecoder(c.conn)
	for {
		m, err := dec.Decode()
		var se *SyntaxError
		switch {
		case errors.As(err, &se):
			continue
		case err != nil:
			c.stop(err)
			return
		case m.Response != nil:
			c.deliver(m.Response)
		case m.Event != nil:
			c.publish(*m.Event)
		}
	}
}

func (c *Client) deliver(r *Response) {
	c.mu.Lock()
	ch, ok := c.pending[r.ID]
	delete(c.pending, r.ID)
	c.mu.Unlock()
	if ok {
		ch <- r // buffered 1, and each id is answered once
	}
}

// publish hands ev to every subscriber without blocking (under mu, so a
// channel is never sent on after Events' goroutine closed it).
func (c *Client) publish(ev Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- ev:
		default:
			c.dropped++
		}
	}
}

// stop records why the connection ended and wakes everyone waiting.
func (c *Client) stop(err error) {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		err = fmt.Errorf("%s: %w", c.name, ErrClosed)
	} else if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) {
		err = fmt.Errorf("%s: %w by the agent", c.name, ErrClosed)
	} else {
		err = fmt.Errorf("%s: %w: %w", c.name, ErrClosed, err)
	}
	c.conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	for ch := range c.subs {
		close(ch)
	}
	clear(c.subs)
	close(c.done)
}
