package hv

import (
	"strings"
	"sync"
	"sync/atomic"

	"grove/boot/guest"
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
	bus        *bus // its devices (devbus.go), made with its first vCPU
	vcpus      []*VCPU
	hv         *Hypervisor
	ready      atomic.Bool // built: visible to lookups

	mu      sync.Mutex // guards console; lock order: after Scheduler.mu
	console strings.Builder

	// Guarded by the scheduler's mu.
	state       domState
	pauseCount  int  // controller pause count (Xen semantics, max 255)
	started     bool // unpaused at least once
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

// loadPVH plans the image into RAM the way Xen PVH boots a guest
// (boot/guest: segments at their physical addresses, hvm_start_info with the
// command line and memory map) and returns the entry and start-info address.
func loadPVH(ram *guestRAM, name string, image []byte, cmdline string) (entry, startInfo uint32, err error) {
	img, err := guest.ParseImage(name, image)
	if err != nil {
		return 0, 0, err
	}
	plan, err := guest.NewPlan(img, ram.size, cmdline, nil)
	if err != nil {
		return 0, 0, err
	}
	for _, w := range plan.Writes {
		// w.Zero bytes follow Data; guest RAM comes zeroed from the kernel.
		if err := ram.write(w.GPA, w.Data); err != nil {
			return 0, 0, err
		}
	}
	return plan.Entry, uint32(plan.StartInfo), nil
}
