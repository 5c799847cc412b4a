package hv

import (
	"errors"

	"grove/hv/pc"
	"grove/kernel"
)

// The PC platform (package hv/pc) in a domain: the devices a stock OS
// needs, on the domain's bus, with their interrupts routed to its vCPUs'
// local APICs and their time taken from the kernel's clock. Domains booted
// from a Linux bzImage get it; Grove's own guests (PVH images) keep the
// hypercall interface alone.

// platform is one domain's PC devices. Built with the domain, before any
// vCPU runs; its fields never change after.
type platform struct {
	apics *pc.Bus // the local APICs, one per vCPU, and the bus between them
}

// newPlatform builds d's PC devices for its vCPUs (already made) and gives
// each vCPU its local APIC. Application processors wait for a STARTUP IPI,
// as on a PC, instead of vcpu_op.
func newPlatform(d *Domain) (*platform, error) {
	s := d.hv.sched
	apics, err := pc.NewBus(len(d.vcpus), pcClock{}, func(i int) { s.pcKick(d.vcpus[i]) })
	if err != nil {
		return nil, err
	}
	for i, v := range d.vcpus {
		v.lapic = apics.LAPIC(i)
		v.inited = i == 0
	}
	return &platform{apics: apics}, nil
}

var errNoSerial = errors.New("no serial port (only PC-platform domains, e.g. Linux, have one)")

// ConsoleInput sends b to the domain's serial port as if typed on it. With
// b empty it only reports whether the domain has a serial port.
func (d *Domain) ConsoleInput(b []byte) error {
	if d.pc == nil {
		return errNoSerial
	}
	return d.pc.input(b)
}

func (p *platform) input(b []byte) error { return errNoSerial }

// pcClock is the platform's time: the kernel's clock, and the TSC as every
// CPU agrees on it, which is what a guest reads (runSlice sets each vCPU's
// TSC offset to the CPU's).
type pcClock struct{}

func (pcClock) Nanotime() int64 { return kernel.Nanotime() }
func (pcClock) TSC() uint64     { return kernel.ReadTSC() }
func (pcClock) TSCHz() uint64   { return kernel.TSCHz() }
