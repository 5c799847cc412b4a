package proto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// DefaultTimeout bounds a call when neither Dial nor the context gives a
// deadline: a dead agent must never hang grovectl.
const DefaultTimeout = 10 * time.Second

// eventBuffer is how many events a slow subscriber may fall behind before
// events are dropped; dropping beats stalling the responses behind them.
const eventBuffer = 256

// ErrClosed is returned by calls on a connection the agent (or Close) has
// ended.
var ErrClosed = errors.New("connection closed")

// Client is the host side of a connection to the agent. Calls may be made
// from several goroutines; one goroutine reads the line and hands each
// response to its caller and each event to the subscribers.
type Client struct {
	name    string // the socket path, for error messages
	conn    io.ReadWriteCloser
	timeout time.Duration
	enc     *Encoder
	wmu     sync.Mutex // serializes deadline + write; taken before mu

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan *Response
	subs    map[chan Event]struct{}
	dropped int
	closing bool          // Close was called: the end is ours, not the agent's
	err     error         // why the reader stopped, once done is closed
	done    chan struct{} // closed when the reader stops
}

// Dial connects to the agent's socket at path. timeout bounds the connect
// and is the default deadline of every call (0 = DefaultTimeout). Where the
// host channel's shared memory is beside the socket (ShmPath), Dial asks
// the agent for its rings (ring.go), and uses the serial line alone if the
// agent has none.
func Dial(path string, timeout time.Duration) (*Client, error) { return dial(path, timeout, true) }

// DialSerial is Dial keeping to the serial line even where there are rings:
// the baseline of make bench, and a way round a broken ring.
func DialSerial(path string, timeout time.Duration) (*Client, error) {
	return dial(path, timeout, false)
}

func dial(path string, timeout time.Duration, rings bool) (*Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	conn, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot connect (is Grove running?): %w", path, dialCause(err))
	}
	if rings { // upgrade says errNoRing, before asking the agent, if there is no file
		rc, err := upgrade(conn, ShmPath(path), timeout)
		switch {
		case err == nil:
			return NewClient(rc, path, timeout), nil
		case !errors.Is(err, errNoRing):
			conn.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return NewClient(serialConn{conn}, path, timeout), nil
}

// dialCause is why a dial failed without the "dial unix PATH:" that
// net.OpError repeats: the caller names the path once.
func dialCause(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
		return oe.Err
	}
	return err
}

// NewClient runs the protocol over conn, named name in errors. Tests and
// other transports (a serial device) use it directly.
func NewClient(conn io.ReadWriteCloser, name string, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c := &Client{
		name: name, conn: conn, timeout: timeout, enc: NewEncoder(conn),
		nextID: 1, pending: map[uint64]chan *Response{},
		subs: map[chan Event]struct{}{}, done: make(chan struct{}),
	}
	go c.read()
	return c
}

// Close ends the connection; pending calls fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	err := c.conn.Close()
	<-c.done
	return err
}

// Dropped reports how many events were dropped because a subscriber fell
// behind.
func (c *Client) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Call sends op with args (nil for none) and decodes the result into
// result (nil to ignore it). An error from the agent is a *Error, which
// unwraps to its errno; transport errors name the socket.
func (c *Client) Call(ctx context.Context, op string, args, result any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req := &Request{Op: op}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		req.Args = b
	}
	ch, err := c.register(req)
	if err != nil {
		return err
	}
	defer c.unregister(req.ID)
	if err := c.write(ctx, req); err != nil {
		return err
	}
	return c.wait(ctx, req, ch, result)
}

// register gives req an id and a place for its answer.
func (c *Client) register(req *Request) (chan *Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return nil, c.err
	default:
	}
	req.ID = c.nextID
	c.nextID++
	ch := make(chan *Response, 1)
	c.pending[req.ID] = ch
	return ch, nil
}

func (c *Client) unregister(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// write sends req before ctx's deadline. A write cut short leaves half a
// line on the wire, so the connection is closed rather than reused.
func (c *Client) write(ctx context.Context, req *Request) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if d, ok := c.conn.(interface{ SetWriteDeadline(time.Time) error }); ok {
		dl, _ := ctx.Deadline()
		d.SetWriteDeadline(dl) // best effort: a conn without deadlines still works
	}
	if err := c.enc.Encode(req); err != nil {
		c.mu.Lock()
		stopped := c.err != nil
		c.mu.Unlock()
		c.conn.Close()
		<-c.done
		switch {
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			return fmt.Errorf("%s: %s: agent not reading within %v: %w", c.name, req.Op, c.timeout, context.DeadlineExceeded)
		case stopped: // the reader saw the end first: its error says why
			return c.err
		}
		return fmt.Errorf("%s: %s: sending: %w: %w", c.name, req.Op, ErrClosed, err)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// wait takes the response to req, or gives up at ctx's deadline.
func (c *Client) wait(ctx context.Context, req *Request, ch chan *Response, result any) error {
	select {
	case resp := <-ch:
		return decodeResult(req.Op, resp, result)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s: %s: no answer from the agent: %w", c.name, req.Op, ctx.Err())
		}
		return fmt.Errorf("%s: %s: %w", c.name, req.Op, ctx.Err())
	case <-c.done:
		// The reader may have delivered the answer just before stopping.
		select {
		case resp := <-ch:
			return decodeResult(req.Op, resp, result)
		default:
			return c.err
		}
	}
}

func decodeResult(op string, resp *Response, result any) error {
	if !resp.OK {
		return resp.Error
	}
	if result == nil || resp.Result == nil {
		return nil
	}
	if err := strictUnmarshal(resp.Result, result); err != nil {
		return fmt.Errorf("%s: bad result from the agent: %w", op, err)
	}
	return nil
}

// Events returns a channel of the events the agent sends from now until
// ctx ends or the connection closes; then it is closed. The agent sends
// events only after an events.subscribe call (see Subscribe).
func (c *Client) Events(ctx context.Context) <-chan Event {
	ch := make(chan Event, eventBuffer)
	c.mu.Lock()
	select {
	case <-c.done:
		close(ch)
		c.mu.Unlock()
		return ch
	default:
	}
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-c.done:
		}
		c.mu.Lock()
		if _, ok := c.subs[ch]; ok {
			delete(c.subs, ch)
			close(ch)
		}
		c.mu.Unlock()
	}()
	return ch
}

// Subscribe starts listening (Events) and then asks the agent for events,
// so none sent in reply to the request is missed.
func (c *Client) Subscribe(ctx context.Context) (<-chan Event, error) {
	ch := c.Events(ctx)
	if err := c.Call(ctx, OpEventSubscribe, nil, nil); err != nil {
		return nil, err
	}
	return ch, nil
}
