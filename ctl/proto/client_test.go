package proto

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"grove/errno"
)

// agent answers each request with h on the far end of a pipe. h writes
// whatever it likes (responses, events, noise) through enc.
func agent(t *testing.T, timeout time.Duration, h func(req *Request, enc *Encoder, raw net.Conn)) *Client {
	t.Helper()
	near, far := net.Pipe()
	go func() {
		dec, enc := NewDecoder(far), NewEncoder(far)
		for {
			m, err := dec.Decode()
			if err != nil {
				far.Close()
				return
			}
			if m.Request != nil {
				h(m.Request, enc, far)
			}
		}
	}()
	c := NewClient(near, "test.sock", timeout)
	t.Cleanup(func() { c.Close() })
	return c
}

func reply(enc *Encoder, id uint64, result any) {
	r, _ := OK(id, result)
	enc.Encode(r)
}

func TestCallResult(t *testing.T) {
	c := agent(t, time.Second, func(req *Request, enc *Encoder, _ net.Conn) {
		var a GroupArgs
		req.DecodeArgs(&a)
		reply(enc, req.ID, GroupInfo{ID: a.Group, Members: []int{3, 1}, Paused: true, PauseCount: 1})
	})
	var info GroupInfo
	if err := c.Call(context.Background(), OpGroupInfo, GroupArgs{Group: 4}, &info); err != nil {
		t.Fatal(err)
	}
	if info.ID != 4 || len(info.Members) != 2 || !info.Paused {
		t.Fatalf("got %+v", info)
	}
}

func TestCallErrno(t *testing.T) {
	c := agent(t, time.Second, func(req *Request, enc *Encoder, _ net.Conn) {
		enc.Encode(Fail(req.ID, errno.ESRCH))
	})
	err := c.Call(context.Background(), OpGroupPause, GroupArgs{Group: 7}, nil)
	if !errors.Is(err, errno.ESRCH) {
		t.Fatalf("error %v is not ESRCH", err)
	}
	if err.Error() != "no such domain or group (ESRCH)" {
		t.Fatalf("error text %q", err)
	}
}

func TestCallTimeout(t *testing.T) {
	c := agent(t, 50*time.Millisecond, func(*Request, *Encoder, net.Conn) {})
	start := time.Now()
	err := c.Call(context.Background(), OpList, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "test.sock: list") {
		t.Fatalf("error %v, want a deadline naming the socket and op", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}

// An agent that stops reading must not block the writer past the deadline.
func TestCallWriteTimeout(t *testing.T) {
	near, _ := net.Pipe() // nobody reads the far end
	c := NewClient(near, "stuck.sock", 50*time.Millisecond)
	defer c.Close()
	err := c.Call(context.Background(), OpList, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stuck.sock") {
		t.Fatalf("error %v", err)
	}
}

func TestCallClosed(t *testing.T) {
	c := agent(t, time.Second, func(_ *Request, _ *Encoder, raw net.Conn) { raw.Close() })
	err := c.Call(context.Background(), OpList, nil, nil)
	if !errors.Is(err, ErrClosed) || err.Error() != "test.sock: connection closed by the agent" {
		t.Fatalf("error %v", err)
	}
	// Later calls fail at once the same way.
	if err2 := c.Call(context.Background(), OpList, nil, nil); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second call: %v", err2)
	}
}

func TestLateResponseIgnored(t *testing.T) {
	var mu sync.Mutex
	var held []uint64
	c := agent(t, 50*time.Millisecond, func(req *Request, enc *Encoder, _ net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		if req.Op == "slow" {
			held = append(held, req.ID)
			return
		}
		for _, id := range held { // the slow answer arrives first, too late
			reply(enc, id, Count{Count: 99})
		}
		reply(enc, req.ID, Count{Count: 1})
	})
	if err := c.Call(context.Background(), "slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow call: %v", err)
	}
	var n Count
	if err := c.Call(context.Background(), "fast", nil, &n); err != nil || n.Count != 1 {
		t.Fatalf("fast call: %+v %v", n, err)
	}
}

// Events, noise and responses arrive interleaved; each goes where it
// belongs and events keep their order.
func TestInterleaved(t *testing.T) {
	c := agent(t, time.Second, func(req *Request, enc *Encoder, raw net.Conn) {
		switch req.Op {
		case OpEventSubscribe:
			enc.Encode(&Event{Kind: EventPaused, Domain: 1, Group: 2})
			raw.Write([]byte("(d0) agent: noise\r\n"))
			reply(enc, req.ID, nil)
			enc.Encode(&Event{Kind: EventCrashed, Domain: 3, Group: 2, Reason: "triple fault"})
		default:
			enc.Encode(&Event{Kind: EventUnpaused, Domain: 1, Group: 2})
			reply(enc, req.ID, DomainList{Domains: []DomainInfo{{ID: 0, Name: "dom0"}}})
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var list DomainList
	if err := c.Call(ctx, OpList, nil, &list); err != nil || len(list.Domains) != 1 {
		t.Fatalf("list: %+v %v", list, err)
	}
	var kinds []string
	for range 3 {
		kinds = append(kinds, (<-events).Kind)
	}
	if strings.Join(kinds, ",") != "paused,crashed,unpaused" {
		t.Fatalf("events %v", kinds)
	}
	cancel()
	for range events { // closed after cancel
	}
}

func TestConcurrentCalls(t *testing.T) {
	var mu sync.Mutex
	var queue []*Request
	c := agent(t, 2*time.Second, func(req *Request, enc *Encoder, _ net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		queue = append(queue, req)
		if len(queue) < 8 {
			return
		}
		for i := len(queue) - 1; i >= 0; i-- { // answer in reverse
			var a DomainArgs
			queue[i].DecodeArgs(&a)
			reply(enc, queue[i].ID, Count{Count: a.Domain})
		}
	})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var n Count
			if err := c.Call(context.Background(), OpPause, DomainArgs{Domain: i}, &n); err != nil || n.Count != i {
				t.Errorf("call %d: %+v %v", i, n, err)
			}
		})
	}
	wg.Wait()
}

func TestEventsClosedWithConnection(t *testing.T) {
	c := agent(t, time.Second, func(_ *Request, _ *Encoder, raw net.Conn) { raw.Close() })
	events := c.Events(context.Background())
	c.Call(context.Background(), OpList, nil, nil)
	select {
	case _, ok := <-events:
		if ok {
			t.Fatal("event from nowhere")
		}
	case <-time.After(time.Second):
		t.Fatal("events not closed")
	}
	if _, ok := <-c.Events(context.Background()); ok {
		t.Fatal("Events after close gave an event")
	}
}

func TestDialUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grove.sock")
	_, err := Dial(path, 100*time.Millisecond)
	if want := path + ": cannot connect (is Grove running?): no such file or directory"; err == nil || err.Error() != want ||
		!errors.Is(err, syscall.ENOENT) {
		t.Fatalf("dial of a missing socket: %v, want %q (the path once)", err, want)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		m, _ := NewDecoder(conn).Decode()
		reply(NewEncoder(conn), m.Request.ID, GroupID{Group: 5})
		conn.Close()
	}()
	c, err := Dial(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var g GroupID
	if err := c.Call(context.Background(), OpGroupCreate, GroupArgs{}, &g); err != nil || g.Group != 5 {
		t.Fatalf("create: %+v %v", g, err)
	}
	err = c.Call(context.Background(), OpList, nil, nil)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), path) {
		t.Fatalf("after the agent hung up: %v", err)
	}
}

func TestCloseByUs(t *testing.T) {
	c := agent(t, time.Second, func(*Request, *Encoder, net.Conn) {})
	c.Close()
	err := c.Call(context.Background(), OpList, nil, nil)
	if !errors.Is(err, ErrClosed) || strings.Contains(err.Error(), "by the agent") {
		t.Fatalf("error %v", err)
	}
}

func TestBadResult(t *testing.T) {
	c := agent(t, time.Second, func(req *Request, enc *Encoder, _ net.Conn) {
		reply(enc, req.ID, map[string]int{"grup": 1})
	})
	var g GroupID
	err := c.Call(context.Background(), OpGroupCreate, nil, &g)
	if err == nil || !strings.Contains(err.Error(), "group.create: bad result") {
		t.Fatalf("error %v", err)
	}
}
