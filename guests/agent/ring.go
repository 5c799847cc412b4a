//go:build groveguest

package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"grove/ctl/proto"
	"grove/ctl/ring"
	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// The host channel's shared memory (ctl/ring): when the hypervisor has it
// (sysctl ctlring, under QEMU an ivshmem device), a host that asks over
// the serial line (op channel.ring, grovectl does at connect) gets its
// requests read from one ring and its answers and events written to the
// other, with one Doorbell byte on COM2 after each write either way. The
// serial line still takes plain JSON lines, from a host that did not ask.

// hostRing is the agent's side of the rings; nil: serial only.
type hostRing struct {
	reg    *ring.Region
	mu     sync.Mutex     // held while touching the indices, which reset zeroes
	epoch  atomic.Uint64  // bumped by reset: an old client's reads and writes stop
	kick   chan struct{}  // a doorbell or a reset came
	enc    *proto.Encoder // answers and events for the ring's host
	bellAt atomic.Int64   // kernel.Nanotime of the last doorbell, for timing
	missed int            // requests found by ringLook, not a doorbell (the reader's)
}

var errReset = errors.New("host channel ring reset by a new client")

// openRing maps the shared memory (sysctl ctlring) and lays out empty
// rings, or says why there are none.
func openRing() *hostRing {
	out, err := call(abi.Sysctl, abi.Ctl{Cmd: abi.SysctlCtlRing, Version: abi.SysctlVersion}, nil)
	if err != nil {
		fmt.Printf("agent: host channel: serial only (shared memory: %v)\n", err)
		return nil
	}
	r, _ := abi.DecodeCtlRing(out.Union[:])
	// The hypervisor mapped it at this guest-physical address, which the
	// guest kernel's identity map of the low 4 GiB makes an address here.
	mem := unsafe.Slice((*byte)(unsafe.Pointer(uintptr(r.Addr))), r.Size)
	reg, err := ring.Init(mem)
	if err != nil {
		fmt.Printf("agent: host channel: serial only (%v)\n", err)
		return nil
	}
	h := &hostRing{reg: reg, kick: make(chan struct{}, 1)}
	h.enc = proto.NewEncoder(ringWriter{h})
	fmt.Printf("agent: host channel: shared memory at %#x, rings of %d KiB\n", r.Addr, reg.Size()>>10)
	return h
}

// doorbell notes a Doorbell byte from the host.
func (h *hostRing) doorbell() {
	h.bellAt.Store(kernel.Nanotime())
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// reset empties both rings for a new client (op channel.ring, answered on
// the serial line): what the last client left is dropped, and so is its
// event subscription.
func (h *hostRing) reset() (proto.RingInfo, error) {
	if h == nil {
		return proto.RingInfo{}, fmt.Errorf("no shared memory for the host channel: %w", errno.ENODEV)
	}
	h.mu.Lock()
	ring.Init(h.reg.Mem())
	h.epoch.Add(1)
	h.mu.Unlock()
	subscriber.CompareAndSwap(h.enc, nil)
	h.doorbell()
	return proto.RingInfo{Size: h.reg.Size()}, nil
}

// serve answers what comes through the ring, forever.
func (h *hostRing) serve(timing bool) {
	for {
		dec := proto.NewDecoder(&ringReader{h: h, epoch: h.epoch.Load()})
		serveFrom(dec, h.enc, timing, nil, h)
	}
}

// ringReader reads the host's bytes, waiting for doorbells while there are
// none; after a reset it ends (errReset) so its decoder's partial line goes.
type ringReader struct {
	h     *hostRing
	epoch uint64
}

func (r *ringReader) Read(p []byte) (int, error) {
	for {
		r.h.mu.Lock()
		if r.h.epoch.Load() != r.epoch {
			r.h.mu.Unlock()
			return 0, errReset
		}
		n := r.h.reg.ToGuest().Read(p)
		r.h.mu.Unlock()
		if n > 0 {
			return n, nil
		}
		if !r.h.spin() {
			select {
			case <-r.h.kick:
			case <-time.After(ringLook):
				if r.h.reg.ToGuest().Len() > 0 {
					r.h.missed++
					fmt.Printf("agent: host channel: a request found without its doorbell (%d so far)\n", r.h.missed)
				}
			}
		}
	}
}

// ringLook bounds what a lost doorbell costs: a sleeping reader looks at
// the ring this often anyway (a doorbell has been seen not to wake the
// agent while CPU-bound guests held every CPU; the line above says when
// that happens).
const ringLook = 500 * time.Millisecond

// ringSpin is how long the reader watches the ring before it sleeps until
// a doorbell: requests come in bursts (grovectl apply, a pause followed by
// an unpause), and the watch costs no exits, while a sleeping agent wakes
// through COM2's interrupt, the hypervisor and two goroutines, about a
// millisecond under TCG (KVM's halt polling trades the same way).
const ringSpin = time.Millisecond

// spin watches the ring for up to ringSpin; true if something came (or a
// doorbell or reset is pending), false if it is time to sleep.
func (h *hostRing) spin() bool {
	for end := kernel.Nanotime() + int64(ringSpin); kernel.Nanotime() < end; {
		if h.reg.ToGuest().Len() > 0 || len(h.kick) > 0 {
			return true
		}
	}
	return false
}

// ringWriter writes to the host's ring and rings its doorbell. A host that
// stops reading gets ringStall to make room, then the rest is dropped
// (said on the console): the agent must not block on a gone client.
type ringWriter struct{ h *hostRing }

const ringStall = 2 * time.Second

func (w ringWriter) Write(p []byte) (int, error) {
	h := w.h
	epoch := h.epoch.Load()
	var stalled time.Time
	done := 0
	for done < len(p) {
		h.mu.Lock()
		if h.epoch.Load() != epoch {
			h.mu.Unlock()
			return done, errReset
		}
		n := h.reg.ToHost().Write(p[done:])
		h.mu.Unlock()
		done += n
		switch {
		case done == len(p):
		case n > 0:
			stalled = time.Time{}
			ringDoorbell() // let the host drain what is there
		case stalled.IsZero():
			stalled = time.Now()
			fallthrough
		case time.Since(stalled) < ringStall:
			time.Sleep(time.Millisecond)
		default:
			fmt.Printf("agent: host channel: host not reading for %v; %d bytes dropped\n", ringStall, len(p)-done)
			return done, errors.New("host channel ring full")
		}
	}
	ringDoorbell()
	return len(p), nil
}
