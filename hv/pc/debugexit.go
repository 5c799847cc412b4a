package pc

import "sync"

// DebugExit is QEMU's isa-debug-exit device as QEMU's test kernels use it
// (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`; QEMU
// hw/misc/debugexit.c): a write of value v to any of its ports ends the
// machine with status v (QEMU itself exits with (v<<1)|1). In a domain it
// ends that domain only, through exit; reads return zero. Only the first
// write counts: the vCPUs of an ending domain may still be running.
type DebugExit struct {
	exit func(status uint64)

	mu   sync.Mutex
	done bool
}

// DebugExitPort and DebugExitSize are where QEMU's test kernels expect it.
const (
	DebugExitPort = 0xf4
	DebugExitSize = 4
)

// NewDebugExit returns the device; exit is called (without its lock held)
// with the status of the first write.
func NewDebugExit(exit func(status uint64)) *DebugExit { return &DebugExit{exit: exit} }

// Ranges is the device's claim.
func (e *DebugExit) Ranges() []PortRange {
	return []PortRange{{Base: DebugExitPort, Size: DebugExitSize, Name: "debug_exit", Dev: e}}
}

func (e *DebugExit) Read(off uint64, size int) uint64 { return 0 }

func (e *DebugExit) Write(off uint64, size int, val uint64) {
	e.mu.Lock()
	first := !e.done
	e.done = true
	e.mu.Unlock()
	if first && e.exit != nil {
		e.exit(val & (1<<(8*min(size, 8)) - 1))
	}
}
