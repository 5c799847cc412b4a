// Package pc is the small PC platform a stock operating system (Debian's
// Linux kernel, QEMU's test kernels) needs in a Grove domain: one file per
// device, each a plain Go value that the hypervisor puts on the domain's
// device bus (hv/devbus.go) and that host tests drive through the same
// methods. Nothing here touches the real machine: time comes from a Clock,
// interrupts leave through an IRQ line or the domain's APIC bus, and the
// hypervisor (hv/platform.go) wires them to vCPUs.
//
// Interrupt path: a device raises an IRQ line (a pin of the domain's
// IOAPIC); the IOAPIC turns it into an APIC-bus Msg by its redirection
// entry; the Bus hands the Msg to the addressed local APICs (one per vCPU,
// lapic.go), and calls Kick so that the hypervisor makes the vCPU look at
// its APIC (exit it if running, wake it if halted). Local APIC IPIs (ICR
// writes) travel the same Bus, INIT and STARTUP included.
//
// Concurrency: each device has its own mutex where vCPUs of a domain, timers
// and the console can reach it at once; callbacks (IRQ, Kick) are made
// without the device's lock held, so a device may call into another.
package pc

// Device is one device's register window: the method set of hv.Device.
// off is from the start of the range the device registered, size is 1, 2,
// 4 or 8 bytes.
type Device interface {
	Read(off uint64, size int) uint64
	Write(off uint64, size int, val uint64)
}

// Clock is the domain's time: monotonic nanoseconds (kernel.Nanotime in
// the image, a fake in tests) and the guest's TSC with its frequency.
type Clock interface {
	Nanotime() int64
	TSC() uint64
	TSCHz() uint64
}

// IRQ is an interrupt request line into the interrupt controller. Edge
// devices pulse it (SetLevel(true) then SetLevel(false)); level devices
// hold it while they want service.
type IRQ interface {
	SetLevel(high bool)
}

// IRQFunc adapts a function to IRQ.
type IRQFunc func(high bool)

func (f IRQFunc) SetLevel(high bool) { f(high) }

// NoIRQ is a line connected to nothing.
var NoIRQ IRQ = IRQFunc(func(bool) {})
