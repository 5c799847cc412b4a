package hv

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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
	ready      atomic.Bool // built: visible to lookups

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

// PVH start of day (xen/include/public/arch-x86/hvm/start_info.h, version
// 1): start_info, the memory map and the command line sit in low guest RAM;
// EBX points at start_info.
const (
	startInfoGPA = 0x6000
	memmapGPA    = 0x6100
	cmdlineGPA   = 0x6400
	maxCmdline   = 1023
)

func writeStartInfo(ram *guestRAM, cmdline string) (uint32, error) {
	if len(cmdline) > maxCmdline {
		return 0, fmt.Errorf("command line is %d bytes, at most %d", len(cmdline), maxCmdline)
	}
	le := binary.LittleEndian
	mm := make([]byte, 0, 3*24)
	for _, e := range []struct {
		addr, size uint64
		typ        uint32
	}{{0, 0x9f000, 1}, {0x9f000, 0x100000 - 0x9f000, 2}, {0x100000, ram.size - 0x100000, 1}} {
		mm = le.AppendUint64(mm, e.addr)
		mm = le.AppendUint64(mm, e.size)
		mm = le.AppendUint32(mm, e.typ)
		mm = le.AppendUint32(mm, 0)
	}
	si := make([]byte, 56)
	le.PutUint32(si[0:], 0x336ec578) // XEN_HVM_START_MAGIC_VALUE
	le.PutUint32(si[4:], 1)          // version
	le.PutUint64(si[24:], cmdlineGPA)
	le.PutUint64(si[40:], memmapGPA)
	le.PutUint32(si[48:], 3)
	for _, w := range []struct {
		gpa uint64
		b   []byte
	}{{startInfoGPA, si}, {memmapGPA, mm}, {cmdlineGPA, append([]byte(cmdline), 0)}} {
		if err := ram.write(w.gpa, w.b); err != nil {
			return 0, err
		}
	}
	return startInfoGPA, nil
}
