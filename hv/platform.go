package hv

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"grove/hv/pc"
	"grove/hv/svm"
	"grove/kernel"
)

// The PC platform (package hv/pc) in a domain: the devices a stock OS
// needs, on the domain's bus, with their interrupts routed to its vCPUs'
// local APICs and their time taken from the kernel's clock. Domains booted
// from a Linux bzImage or a multiboot kernel get it; Grove's own guests
// (PVH images) keep the hypercall interface alone.

// platform is one domain's PC devices. Built with the domain, before any
// vCPU runs; its fields never change after.
type platform struct {
	apics  *pc.Bus // the local APICs, one per vCPU, and the bus between them
	ioapic *pc.IOAPIC
	uart   *pc.UART // COM1
	pit    *pc.PIT

	mu   sync.Mutex  // guards pitT: vCPUs and the timer itself re-arm it
	pitT *time.Timer // fires at the PIT's next output edge
}

// ISA interrupts on the IOAPIC's pins, as the MADT Grove writes
// (boot/guest/acpi.go) describes them: identity, but IRQ0 on pin 2.
const (
	pinPIT  = 2
	pinCOM1 = pc.COM1IRQ
)

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
		v.vmcb.SetCRIntercepts(svm.InterceptCR4Write) // platform_cr4.go
	}
	p := &platform{apics: apics, ioapic: pc.NewIOAPIC(uint8(len(d.vcpus)), apics)}
	apics.AddEOIListener(p.ioapic)
	p.uart = pc.NewUART(func(b byte) { d.consoleBytes([]byte{b}) }, p.ioapic.Pin(pinCOM1))
	p.pit = pc.NewPIT(pcClock{}, p.ioapic.Pin(pinPIT), p.armPIT)
	end := func(why string) func() { return func() { d.hv.sched.endDomain(d, domShutdown, why) } }
	pm := pc.NewACPIPM(pcClock{}, pc.DefaultPMPorts, func(uint8) { end("ACPI power off")() })
	var ports []pc.PortRange
	ports = append(ports, p.uart.Ranges(pc.COM1Port, "com1")...)
	ports = append(ports, p.pit.Ranges()...)
	ports = append(ports, pc.NewRTC(time.Now).Ranges()...)
	ports = append(ports, pm.Ranges()...)
	// A reset request (Linux's reboot, or its panic=N) cannot be met:
	// the domain ends as crashed, so that a crash reaction sees it.
	reset := func() { d.hv.sched.endDomain(d, domCrashed, "the guest reset its machine (reboot is not supported)") }
	ports = append(ports, pc.NewLegacyPorts(reset).Ranges()...)
	ports = append(ports, qemuDevices(d, p.ioapic)...)
	for _, r := range ports {
		if err := d.bus.register(SpacePort, uint64(r.Base), uint64(r.Size), r.Name, r.Dev); err != nil {
			return nil, err
		}
	}
	if err := d.bus.register(SpaceMMIO, pc.IOAPICBase, pc.IOAPICSize, "ioapic", p.ioapic); err != nil {
		return nil, err
	}
	return p, nil
}

// qemuDevices are the devices of QEMU's that its test kernels
// (kvm-unit-tests) use besides the PC's: fw_cfg for the CPU count and RAM
// size, isa-debug-exit to end with a status (the domain only), and
// pc-testdev's ports.
func qemuDevices(d *Domain, ioapic *pc.IOAPIC) []pc.PortRange {
	var ports []pc.PortRange
	ports = append(ports, pc.NewFWCfg(len(d.vcpus), d.ram.size).Ranges()...)
	ports = append(ports, pc.NewDebugExit(func(status uint64) { d.hv.sched.exitDomain(d, status) }).Ranges()...)
	return append(ports, pc.NewTestDev(func(n int) pc.IRQ { return ioapic.Pin(n) }).Ranges()...)
}

// armPIT points the PIT's host timer at its next output edge (0: none).
func (p *platform) armPIT(deadline int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if deadline == 0 {
		if p.pitT != nil {
			p.pitT.Stop()
		}
		return
	}
	d := max(time.Duration(deadline-kernel.Nanotime()), 0)
	if p.pitT == nil {
		p.pitT = time.AfterFunc(d, func() { p.pit.Tick(kernel.Nanotime()) })
		return
	}
	p.pitT.Reset(d)
}

// stop ends the platform's own timers (the domain is ending).
func (p *platform) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pitT != nil {
		p.pitT.Stop()
	}
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

// ConsoleBreak sends a break condition and then b to the domain's serial
// port: for Linux, a magic SysRq key (b is the command letter).
func (d *Domain) ConsoleBreak(b []byte) error {
	if d.pc == nil {
		return errNoSerial
	}
	if n := d.pc.uart.Break(b); n < len(b) {
		return fmt.Errorf("serial input: the break or %d of %d bytes dropped (the guest is not reading)", len(b)-n, len(b))
	}
	return nil
}

func (p *platform) input(b []byte) error {
	if n := p.uart.Receive(b); n < len(b) {
		return fmt.Errorf("serial input: %d of %d bytes dropped (the guest is not reading)", len(b)-n, len(b))
	}
	return nil
}

// linuxCmdline adds to a Linux guest's command line what Linux cannot
// find out on this platform, each unless the line already sets it:
//
//   - tsc_early_khz, the TSC rate. Linux calibrates the TSC against the
//     PIT or the ACPI PM timer and gives up when a read of the reference
//     takes over 50,000 TSC cycles (tsc_read_refs), which a port exit under
//     QEMU always does; it then marks the TSC unstable.
//   - tsc=reliable. Every vCPU reads one TSC at a constant rate (each
//     entry sets the vCPU's offset to its CPU's, pcClock), but Linux
//     cannot check it: its clocksource watchdog skips every check when a
//     PM-timer read takes that long, so the TSC is never verified, and
//     without a verified clocksource Linux never leaves its periodic tick
//     for high-resolution timers and NOHZ (hres_active 0 in
//     /proc/timer_list; ticks that come late are then dropped, and its
//     jiffies fell 12 s behind its clock in 30 s).
func linuxCmdline(cmdline string) string {
	line := " " + cmdline
	if !strings.Contains(line, " tsc=") {
		cmdline += " tsc=reliable"
	}
	if !strings.Contains(line, " tsc_early_khz=") {
		cmdline += fmt.Sprintf(" tsc_early_khz=%d", kernel.TSCHz()/1000)
	}
	return strings.TrimSpace(cmdline)
}

// pcClock is the platform's time: the kernel's clock, and the TSC as every
// CPU agrees on it, which is what a guest reads (runSlice sets each vCPU's
// TSC offset to the CPU's).
type pcClock struct{}

func (pcClock) Nanotime() int64 { return kernel.Nanotime() }
func (pcClock) TSC() uint64     { return kernel.ReadTSC() }
func (pcClock) TSCHz() uint64   { return kernel.TSCHz() }
