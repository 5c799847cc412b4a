// Package ring is the layout of the host channel's shared memory: two
// single-producer single-consumer byte rings, host to guest and guest to
// host, in one region that QEMU's ivshmem-plain device exposes to the
// machine (a PCI BAR, which Grove maps into the control domain) and to the
// host (the file behind it, which grovectl maps). The serial line stays the
// doorbell: after writing to a ring, a side sends one Doorbell byte on COM2,
// so the reader's wait is the serial interrupt it already has, and each
// message, whatever its length, costs one byte on the slow emulated UART
// instead of all of them.
//
// Region layout (little-endian, offsets in bytes):
//
//	0     8  magic "GROVERNG"
//	8     4  version (1)
//	12    4  ring size N (a power of two, both rings)
//	64    4  host-to-guest head (written by the host)
//	128   4  host-to-guest tail (written by the guest)
//	192   4  guest-to-host head (written by the guest)
//	256   4  guest-to-host tail (written by the host)
//	4096  N  host-to-guest data
//	4096+N N guest-to-host data
//
// Heads and tails count bytes modulo 2^32; a ring holds head-tail bytes.
// Each index has its own cache line. The producer stores data before its
// head and the consumer reads data before its tail (sync/atomic orders
// both); both sides run on x86, where that is all it takes, and on the
// host QEMU maps the same pages.
package ring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

const (
	Magic    = "GROVERNG"
	Version  = 1
	dataOff  = 4096
	MinSize  = dataOff + 2*minRing
	minRing  = 4096
	Doorbell = 0x01 // the byte each side sends on the serial line after writing; never in a JSON line
)

// Region is a mapped host channel region.
type Region struct {
	mem     []byte
	n       uint32
	toGuest Ring
	toHost  Ring
}

// Ring is one direction of a Region. Only one goroutine may write and one
// read, each on its own side.
type Ring struct {
	head, tail *uint32
	data       []byte
	mask       uint32
}

// ringSize is the largest power of two that fits twice after the header.
func ringSize(total int) uint32 {
	n := uint32(minRing)
	for dataOff+4*int(n) <= total {
		n *= 2
	}
	return n
}

// Init lays out a fresh region over mem, empty both ways: the guest does
// this when a host asks for the ring (the host's old indices are void).
func Init(mem []byte) (*Region, error) {
	if len(mem) < MinSize {
		return nil, fmt.Errorf("ring: region of %d bytes, want at least %d", len(mem), MinSize)
	}
	r := layout(mem, ringSize(len(mem)))
	for _, p := range []*uint32{r.toGuest.head, r.toGuest.tail, r.toHost.head, r.toHost.tail} {
		atomic.StoreUint32(p, 0)
	}
	binary.LittleEndian.PutUint32(mem[8:], Version)
	binary.LittleEndian.PutUint32(mem[12:], r.n)
	copy(mem, Magic)
	return r, nil
}

// Open reads the layout the guest wrote into mem.
func Open(mem []byte) (*Region, error) {
	if len(mem) < MinSize {
		return nil, fmt.Errorf("ring: region of %d bytes, want at least %d", len(mem), MinSize)
	}
	if !bytes.Equal(mem[:8], []byte(Magic)) {
		return nil, errors.New("ring: no ring in the region (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(mem[8:]); v != Version {
		return nil, fmt.Errorf("ring: version %d, want %d", v, Version)
	}
	n := binary.LittleEndian.Uint32(mem[12:])
	if n < minRing || n&(n-1) != 0 || dataOff+2*int(n) > len(mem) {
		return nil, fmt.Errorf("ring: ring size %d does not fit a %d-byte region", n, len(mem))
	}
	return layout(mem, n), nil
}

func layout(mem []byte, n uint32) *Region {
	idx := func(off int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	return &Region{mem: mem, n: n,
		toGuest: Ring{head: idx(64), tail: idx(128), data: mem[dataOff : dataOff+n], mask: n - 1},
		toHost:  Ring{head: idx(192), tail: idx(256), data: mem[dataOff+n : dataOff+2*n], mask: n - 1},
	}
}

// Mem is the region's memory.
func (r *Region) Mem() []byte { return r.mem }

// Size is each ring's capacity in bytes.
func (r *Region) Size() int { return int(r.n) }

// ToGuest is the host-to-guest ring; ToHost the other.
func (r *Region) ToGuest() *Ring { return &r.toGuest }
func (r *Region) ToHost() *Ring  { return &r.toHost }

// Len is how many bytes q holds. A head more than the ring's size ahead of
// the tail (a peer's bug, or a scribble) reads as full.
func (q *Ring) Len() int {
	n := atomic.LoadUint32(q.head) - atomic.LoadUint32(q.tail)
	return int(min(n, q.mask+1))
}

// Write copies as much of p as fits and returns how much that was (the
// producer's side).
func (q *Ring) Write(p []byte) int {
	head := atomic.LoadUint32(q.head)
	used := head - atomic.LoadUint32(q.tail)
	if used > q.mask+1 {
		return 0 // corrupt indices: write nothing rather than over unread data
	}
	n := min(len(p), int(q.mask+1-used))
	for done := 0; done < n; {
		at := (head + uint32(done)) & q.mask
		done += copy(q.data[at:], p[done:n])
	}
	atomic.StoreUint32(q.head, head+uint32(n))
	return n
}

// Read copies up to len(p) bytes out and returns how many (the consumer's
// side).
func (q *Ring) Read(p []byte) int {
	tail := atomic.LoadUint32(q.tail)
	avail := atomic.LoadUint32(q.head) - tail
	if avail > q.mask+1 {
		avail = q.mask + 1
	}
	n := min(len(p), int(avail))
	for done := 0; done < n; {
		at := (tail + uint32(done)) & q.mask
		done += copy(p[done:n], q.data[at:])
	}
	atomic.StoreUint32(q.tail, tail+uint32(n))
	return n
}

// StripDoorbells takes the Doorbell bytes out of p, in place, and returns
// how many bytes are left at its start and how many doorbells there were:
// both sides read the serial line through it.
func StripDoorbells(p []byte) (n, bells int) {
	for _, c := range p {
		if c == Doorbell {
			bells++
			continue
		}
		p[n] = c
		n++
	}
	return n, bells
}
