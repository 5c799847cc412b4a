package hv

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
)

// DomID is a domain id; 0 is the control domain.
type DomID uint16

// domState is a domain's life.
type domState int

const (
	domRunning domState = iota
	domPaused
	domCrashed
	domShutdown
	domDying
)

func (s domState) String() string {
	return [...]string{"running", "paused", "crashed", "shutdown", "dying"}[s]
}

// Domain is one guest.
type Domain struct {
	ID         DomID
	Name       string
	Privileged bool
	asid       uint32
	ram        *guestRAM
	vcpus      []*VCPU
	hv         *Hypervisor

	mu      sync.Mutex // guards console; lock order: after Scheduler.mu
	console strings.Builder

	// Guarded by the scheduler's mu.
	state       domState
	pauseCount  int // controller pause count (Xen semantics, max 255)
	crashReason string
}

// Config describes a domain to create.
type Config struct {
	Name       string
	MemoryMB   int
	Image      []byte // PVH ELF
	Cmdline    string
	Privileged bool
}

// loadPVH loads a PVH ELF's segments into RAM and returns its entry.
// (The full start_info layout comes with boot/guest.)
func loadPVH(ram *guestRAM, img []byte) (uint32, error) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return 0, fmt.Errorf("not an ELF image: %w", err)
	}
	var entry uint32
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			data := make([]byte, p.Filesz)
			if _, err := p.ReadAt(data, 0); err != nil {
				return 0, fmt.Errorf("segment at %#x: %w", p.Paddr, err)
			}
			if p.Memsz < p.Filesz || ram.write(p.Paddr, data) != nil ||
				ram.write(p.Paddr+p.Filesz, make([]byte, p.Memsz-p.Filesz)) != nil {
				return 0, fmt.Errorf("segment at %#x (%d bytes) does not fit in %d MiB", p.Paddr, p.Memsz, ram.size>>20)
			}
		case elf.PT_NOTE:
			if e, ok := pvhEntry(p); ok {
				entry = e
			}
		}
	}
	if entry == 0 {
		return 0, fmt.Errorf("no PVH entry note (Xen, type 18)")
	}
	return entry, nil
}

func pvhEntry(p *elf.Prog) (uint32, bool) {
	b := make([]byte, p.Filesz)
	if _, err := p.ReadAt(b, 0); err != nil {
		return 0, false
	}
	le := binary.LittleEndian
	for len(b) >= 12 {
		nsz, dsz, typ := le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:])
		name := (nsz + 3) &^ 3
		desc := (dsz + 3) &^ 3
		if uint64(12)+uint64(name)+uint64(desc) > uint64(len(b)) {
			return 0, false
		}
		if typ == 18 && string(bytes.TrimRight(b[12:12+nsz], "\x00")) == "Xen" && dsz >= 4 {
			return le.Uint32(b[12+name:]), true
		}
		b = b[12+name+desc:]
	}
	return 0, false
}
