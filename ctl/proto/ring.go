package proto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"grove/ctl/ring"
)

// The shared-memory transport (package ctl/ring has the layout): where the
// machine has the host channel's shared memory (QEMU's ivshmem-plain,
// backed by the file ShmPath names), Dial asks the agent for it over the
// serial line (op channel.ring) and then moves the JSON lines to the two
// rings, with a Doorbell byte on the serial line after each write either
// way. A line then costs one byte on the emulated UART, not all of its own.

// ShmPath is where Grove's QEMU command lines put the host channel's
// shared memory for a control socket at sock: beside it.
func ShmPath(sock string) string { return sock + ".shm" }

// errNoRing: the agent has no rings (no shared memory, the poll mode, an
// older agent); the serial line serves.
var errNoRing = errors.New("no shared-memory ring")

// ringHandshakeID is the handshake's request id (Client ids start at 1).
const ringHandshakeID = 0

// upgrade asks the agent on conn for the rings and maps them from the file
// at shm. errNoRing (wrapped) if the agent says no.
func upgrade(conn net.Conn, shm string, timeout time.Duration) (*ringConn, error) {
	f, err := os.OpenFile(shm, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoRing, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(timeout))
	defer conn.SetDeadline(time.Time{})
	if err := NewEncoder(conn).Encode(&Request{ID: ringHandshakeID, Op: OpChannelRing}); err != nil {
		return nil, err
	}
	dec := NewDecoder(doorbellFilter{conn})
	for {
		m, err := dec.Decode()
		var se *SyntaxError
		switch {
		case errors.As(err, &se):
			continue
		case err != nil:
			return nil, fmt.Errorf("waiting for the agent: %w", err)
		case m.Response == nil || m.Response.ID != ringHandshakeID:
			continue // an event or an answer left from another client
		}
		var info RingInfo
		if err := decodeResult(OpChannelRing, m.Response, &info); err != nil {
			return nil, fmt.Errorf("%w: %v", errNoRing, err)
		}
		mem, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", shm, err)
		}
		reg, err := ring.Open(mem)
		if err == nil && reg.Size() != info.Size {
			err = fmt.Errorf("ring of %d bytes in the file, the agent says %d", reg.Size(), info.Size)
		}
		if err != nil {
			unix.Munmap(mem)
			return nil, fmt.Errorf("%s: %w", shm, err)
		}
		return &ringConn{sock: conn, mem: mem, reg: reg}, nil
	}
}

// ringConn carries the protocol over the rings; its socket carries only
// doorbells.
type ringConn struct {
	sock net.Conn
	mu   sync.RWMutex // read-held while touching mem; Close unmaps under the write lock
	mem  []byte       // nil once closed
	reg  *ring.Region

	wmu      sync.Mutex // one writer at a time; guards writeDue
	writeDue time.Time  // the write deadline, for waits on a full ring
	bell     [64]byte   // where doorbells are read into
}

// Read returns what the agent wrote, waiting on the socket for its doorbell
// when the ring is empty.
func (c *ringConn) Read(p []byte) (int, error) {
	for {
		c.mu.RLock()
		if c.mem == nil {
			c.mu.RUnlock()
			return 0, net.ErrClosed
		}
		n := c.reg.ToHost().Read(p)
		c.mu.RUnlock()
		if n > 0 || len(p) == 0 {
			return n, nil
		}
		if _, err := c.sock.Read(c.bell[:]); err != nil {
			return 0, err
		}
	}
}

// Write puts p in the agent's ring, waiting for room until the write
// deadline, and rings its doorbell.
func (c *ringConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	for {
		c.mu.RLock()
		if c.mem == nil {
			c.mu.RUnlock()
			return done, net.ErrClosed
		}
		n := c.reg.ToGuest().Write(p[done:])
		c.mu.RUnlock()
		done += n
		if n > 0 { // a full ring was rung for when it filled: the agent is reading it
			if _, err := c.sock.Write([]byte{ring.Doorbell}); err != nil {
				return done, err
			}
		}
		if done == len(p) {
			return done, nil
		}
		if !c.writeDue.IsZero() && time.Now().After(c.writeDue) {
			return done, context.DeadlineExceeded
		}
		time.Sleep(100 * time.Microsecond) // while the agent makes room
	}
}

func (c *ringConn) SetWriteDeadline(t time.Time) error {
	c.wmu.Lock()
	c.writeDue = t
	c.wmu.Unlock()
	return c.sock.SetWriteDeadline(t)
}

// Close ends the connection and unmaps the rings once no call is in them.
func (c *ringConn) Close() error {
	err := c.sock.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mem != nil {
		unix.Munmap(c.mem)
		c.mem = nil
	}
	return err
}

// doorbellFilter drops Doorbell bytes from a serial-line stream: a ring
// client that came before may have left some.
type doorbellFilter struct{ r io.Reader }

func (f doorbellFilter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		k, _ := ring.StripDoorbells(p[:n])
		if k > 0 || err != nil || n == 0 {
			return k, err
		}
	}
}

// Transport names what c's lines travel by: "rings" (shared memory) or
// "serial" (the serial line itself).
func (c *Client) Transport() string {
	if _, ok := c.conn.(*ringConn); ok {
		return "rings"
	}
	return "serial"
}

// serialConn is the serial-line transport: the socket, doorbells dropped.
type serialConn struct {
	net.Conn
}

func (c serialConn) Read(p []byte) (int, error) { return doorbellFilter{c.Conn}.Read(p) }
