package hv

import (
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
	bus        *bus      // its devices (devbus.go), made with its first vCPU
	pc         *platform // the PC platform (platform.go), nil for Grove's own guests
	iopm       uintptr   // the control domain's own I/O permission map (virq.go); 0: the shared one
	vcpus      []*VCPU
	hv         *Hypervisor
	ready      atomic.Bool // built: visible to lookups
	// ended is set with state by endLocked: a vCPU whose own exit ended
	// the domain (a device's power off or exit port) sees it after the
	// exit without taking the scheduler's lock, and stops there.
	ended atomic.Bool
	path  exitPath // how its exits are handled (fastexit.go); set before it first runs

	mu        sync.Mutex // guards console, lastLines and logged; lock order in doc.go
	console   strings.Builder
	lastLines consoleTail     // its last console lines, for a crash report
	logged    onceLog[string] // logOnce's keys

	// Guarded by the scheduler's mu.
	state       domState
	pauseCount  int  // controller pause count (Xen semantics, max 255)
	started     bool // unpaused at least once
	destroying  bool // Destroy began: a second one is ESRCH
	crashReason string
	exited      bool   // shut down through its exit port (exitDomain) ...
	exitStatus  uint64 // ... with this status
}

// Config describes a domain to create.
type Config struct {
	Name       string
	MemoryMB   int
	VCPUs      int    // 0 means 1; at most MaxVCPUs (more than CPUs is fine: they time-share)
	Affinity   uint64 // CPUs (bit per CPU) the vCPUs may run on; 0 = any
	Image      []byte // PVH ELF, or a Linux bzImage (boot/guest.IsBzImage)
	Initrd     []byte // a bzImage's initrd; nil for none (refused with a PVH image)
	Cmdline    string
	Privileged bool
	PC         bool // give it the PC platform (platform.go): a stock OS such as Linux
}
