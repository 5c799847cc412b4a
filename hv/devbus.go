package hv

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// The device bus: each domain's devices claim ranges of I/O ports and of
// guest-physical MMIO addresses, and the IOIO and NPF exits look the
// accessed address up here, once. Ranges may not overlap: registering one
// that does fails, naming both devices. Registration happens while a domain
// is built (not on the exit path); lookups are a binary search over a
// sorted slice, with no allocation, because every port access is an exit.

// Device is an emulated device (or a window onto a real one). Offsets are
// from the start of the range it registered; size is 1, 2, 4 (or 8 for
// MMIO) bytes. A device is called from its domain's vCPUs only.
type Device interface {
	Read(off uint64, size int) uint64
	Write(off uint64, size int, val uint64)
}

// Space is an address space a device range lives in.
type Space uint8

const (
	SpacePort Space = iota // I/O ports 0-0xffff
	SpaceMMIO              // guest-physical addresses
)

func (s Space) String() string { return [...]string{"port", "mmio"}[s] }

// busRange is [base, end) owned by one device.
type busRange struct {
	base, end uint64
	name      string
	dev       Device
}

// bus is one domain's device bus.
type bus struct {
	spaces [2][]busRange // by Space, sorted by base

	logf   func(format string, args ...any) // the domain's console log
	mu     sync.Mutex                       // guards logged; a leaf lock (doc.go)
	logged onceLog[uint16]                  // unknown ports reported once each (console.go)

	unknown atomic.Uint64 // accesses to unknown ports and unmodelled MSRs
}

// register gives dev the range [base, base+size) of space s.
func (b *bus) register(s Space, base, size uint64, name string, dev Device) error {
	if size == 0 || base+size < base || (s == SpacePort && base+size > 1<<16) {
		return fmt.Errorf("device %s: bad %s range %#x+%#x", name, s, base, size)
	}
	rs := b.spaces[s]
	if o, ok := overlap(rs, base, base+size); ok {
		return fmt.Errorf("device %s: %s range %#x-%#x overlaps %s's %#x-%#x",
			name, s, base, base+size-1, o.name, o.base, o.end-1)
	}
	i := search(rs, base)
	rs = append(rs, busRange{})
	copy(rs[i+1:], rs[i:])
	rs[i] = busRange{base: base, end: base + size, name: name, dev: dev}
	b.spaces[s] = rs
	return nil
}

// search returns the index of the first range whose base is above addr.
func search(rs []busRange, addr uint64) int {
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rs[m].base <= addr {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// lookup finds the range holding addr.
func (b *bus) lookup(s Space, addr uint64) (*busRange, bool) {
	rs := b.spaces[s]
	if i := search(rs, addr) - 1; i >= 0 && addr < rs[i].end {
		return &rs[i], true
	}
	return nil, false
}

// in reads size bytes from port; rip names the instruction for the log.
func (b *bus) in(port uint16, size int, rip uint64) uint32 {
	if r, ok := b.lookup(SpacePort, uint64(port)); ok {
		return uint32(r.dev.Read(uint64(port)-r.base, size))
	}
	b.unknownPort(port, rip)
	return 0xffffffff
}

// out writes size bytes of val to port.
func (b *bus) out(port uint16, size int, val uint32, rip uint64) {
	if r, ok := b.lookup(SpacePort, uint64(port)); ok {
		r.dev.Write(uint64(port)-r.base, size, uint64(val))
		return
	}
	b.unknownPort(port, rip)
}

// unknownPort is the policy for ports no device claims, as on a PC with
// nothing at the address: reads return all ones, writes vanish. The first
// access to each such port is logged with the instruction that made it,
// for the first maxLogged ports: a guest sweeping every port would flood
// the console (list counts them all).
func (b *bus) unknownPort(port uint16, rip uint64) {
	b.unknown.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch first, notice := b.logged.note(port); {
	case notice:
		b.logf("more than %d unmodelled ports: no more are logged", maxLogged)
	case first:
		b.logf("no device at port %#x (rip=%#x): reads all ones, writes ignored", port, rip)
	}
}

// mmioOwner names the device holding guest-physical address gpa.
func (b *bus) mmioOwner(gpa uint64) (string, bool) {
	if r, ok := b.lookup(SpaceMMIO, gpa); ok {
		return r.name, true
	}
	return "", false
}

// overlap returns a range of rs (sorted, disjoint) that meets [base, end).
func overlap(rs []busRange, base, end uint64) (busRange, bool) {
	i := search(rs, base)
	for _, j := range []int{i - 1, i} { // only the neighbours can overlap
		if j >= 0 && j < len(rs) && rs[j].base < end && base < rs[j].end {
			return rs[j], true
		}
	}
	return busRange{}, false
}

// mmioOverlap names a device whose MMIO range meets [base, end).
func (b *bus) mmioOverlap(base, end uint64) (string, bool) {
	r, ok := overlap(b.spaces[SpaceMMIO], base, end)
	return r.name, ok
}
