package hv

// Info is a domain's summary (getdomaininfo).
type Info struct {
	ID         DomID
	Name       string
	State      string
	PauseCount int
	MemoryMB   int
	Exits      uint64
	// OverheadKB is host memory the domain costs beyond its RAM: nested
	// page tables and one VMCB per vCPU (kernel pages), and the Go-heap
	// Domain and VCPU structs.
	OverheadKB int
	// Unmodelled counts the domain's accesses to ports and MSRs nothing
	// models (each kind is logged once, devbus.go and exits.go).
	Unmodelled uint64
	// Exited says the domain shut down by writing ExitStatus to its exit
	// port (port 0xf4, pc.DebugExit), as QEMU's test kernels end.
	Exited     bool
	ExitStatus uint64
}

// Info reports d's state.
func (d *Domain) Info() Info {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	var exits uint64
	for _, v := range d.vcpus {
		exits += v.exits
	}
	pages := len(d.vcpus)
	if d.ram.npt != nil {
		pages += d.ram.npt.Pages()
	}
	heap := domainSize + len(d.vcpus)*vcpuSize
	var unmodelled uint64
	if d.bus != nil {
		unmodelled = d.bus.unknown.Load()
	}
	return Info{d.ID, d.Name, d.state.String(), d.pauseCount, int(d.ram.size >> 20), exits,
		pages*4 + (heap+1023)/1024, unmodelled, d.exited, d.exitStatus}
}
