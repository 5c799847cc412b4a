package proto_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"grove/ctl/fakeagent"
	"grove/ctl/proto"
	"grove/ctl/ring"
	"grove/errno"
)

// The shared-memory transport against a fake agent that does what the
// real one does (guests/agent/ring.go): it answers channel.ring on the
// socket, lays out the rings in the file, then reads requests from one ring
// and answers in the other, with a doorbell byte on the socket each way.

// agentSide is the agent's end of the rings.
type agentSide struct {
	sock net.Conn
	reg  *ring.Region
	bell [64]byte
	seen *int // non-doorbell bytes that came on the socket
}

func (a agentSide) Read(p []byte) (int, error) {
	for {
		if n := a.reg.ToGuest().Read(p); n > 0 {
			return n, nil
		}
		n, err := a.sock.Read(a.bell[:])
		if err != nil {
			return 0, err
		}
		for _, b := range a.bell[:n] {
			if b != ring.Doorbell {
				*a.seen++
			}
		}
	}
}

func (a agentSide) Write(p []byte) (int, error) {
	for off := 0; off < len(p); {
		off += a.reg.ToHost().Write(p[off:])
		if _, err := a.sock.Write([]byte{ring.Doorbell}); err != nil {
			return off, err
		}
		if off < len(p) {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return len(p), nil
}

// ringAgent serves one connection at sock; with rings it answers the
// handshake and serves the rings, otherwise it refuses and serves the
// socket. It returns the agent and how many non-doorbell bytes the socket
// carried after the handshake.
func ringAgent(t *testing.T, rings bool, initRegion bool) (sock string, agent *fakeagent.Agent, seen *int) {
	dir := t.TempDir()
	sock = filepath.Join(dir, "grove.sock")
	if err := os.WriteFile(proto.ShmPath(sock), make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	agent, seen = fakeagent.New(), new(int)
	agent.AddDomain(1, "web", 64)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		dec, enc := proto.NewDecoder(conn), proto.NewEncoder(conn)
		m, err := dec.Decode()
		if err != nil || m.Request.Op != proto.OpChannelRing {
			t.Errorf("first request: %+v %v, want the handshake", m.Request, err)
			return
		}
		if !rings {
			enc.Encode(proto.Fail(m.Request.ID, fmt.Errorf("no shared memory: %w", errno.ENODEV)))
			agent.Serve(conn)
			return
		}
		f, _ := os.OpenFile(proto.ShmPath(sock), os.O_RDWR, 0)
		mem, err := unix.Mmap(int(f.Fd()), 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		f.Close()
		if err != nil {
			t.Error(err)
			return
		}
		defer unix.Munmap(mem)
		reg, _ := ring.Init(mem)
		if !initRegion {
			clear(mem[:16])
		}
		resp, _ := proto.OK(m.Request.ID, proto.RingInfo{Size: reg.Size()})
		enc.Encode(resp)
		agent.Serve(agentSide{sock: conn, reg: reg, seen: seen})
	}()
	return sock, agent, seen
}

func TestRingTransport(t *testing.T) {
	sock, agent, seen := ringAgent(t, true, true)
	c, err := proto.Dial(sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Transport() != "rings" {
		t.Fatalf("transport %s, want rings", c.Transport())
	}
	ctx := context.Background()
	events, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		var l proto.DomainList
		if err := c.Call(ctx, proto.OpList, nil, &l); err != nil || len(l.Domains) != 2 || l.Domains[1].Name != "web" {
			t.Fatalf("list %d: %+v %v", i, l, err)
		}
	}
	for i := 0; i < 200; i++ {
		if !agent.Emit(proto.Event{Kind: proto.EventPaused, Domain: i}) {
			t.Fatal("the fake agent has no subscriber")
		}
	}
	for i := 0; i < 200; i++ {
		select {
		case ev := <-events:
			if ev.Domain != i {
				t.Fatalf("event %d is for domain %d", i, ev.Domain)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never came", i)
		}
	}
	// A request bigger than nothing but what fits: 100 KiB of order, which
	// the ring carries in one go and the agent refuses by its content.
	big := proto.PauseArgs{Group: 1, Order: make([]int, 20000)}
	for i := range big.Order {
		big.Order[i] = i + 1
	}
	if err := c.Call(ctx, proto.OpGroupPause, big, nil); err == nil {
		t.Error("a 20000-member order was accepted")
	}
	if *seen != 0 {
		t.Errorf("%d bytes other than doorbells came on the serial line after the handshake", *seen)
	}
}

func TestRingRefusedFallsBackToSerial(t *testing.T) {
	sock, _, _ := ringAgent(t, false, false)
	c, err := proto.Dial(sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Transport() != "serial" {
		t.Errorf("transport %s, want serial", c.Transport())
	}
	var l proto.DomainList
	if err := c.Call(context.Background(), proto.OpList, nil, &l); err != nil || len(l.Domains) != 2 {
		t.Fatalf("list over the serial line: %+v %v", l, err)
	}
}

func TestRingBadRegionRefused(t *testing.T) {
	sock, _, _ := ringAgent(t, true, false)
	_, err := proto.Dial(sock, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), proto.ShmPath(sock)) || !strings.Contains(err.Error(), "bad magic") {
		t.Fatalf("dial with a region the agent did not lay out: %v, want an error naming the file", err)
	}
}

func TestDialSerialSkipsRings(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "grove.sock")
	os.WriteFile(proto.ShmPath(sock), make([]byte, 1<<20), 0o600)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	agent := fakeagent.New()
	go func() {
		conn, err := l.Accept()
		if err == nil {
			agent.Serve(conn)
			conn.Close()
		}
	}()
	c, err := proto.DialSerial(sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Call(context.Background(), proto.OpList, nil, nil); err != nil {
		t.Fatal(err)
	}
	if calls := agent.Calls(); len(calls) != 1 || calls[0] != proto.OpList {
		t.Errorf("the agent saw %v, want only list (no handshake)", calls)
	}
}
