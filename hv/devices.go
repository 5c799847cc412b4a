package hv

import (
	"grove/hv/abi"
	"grove/kernel"
)

// The devices every domain starts with: the debug console port, and for
// the control domain the machine's second serial port.

// newDomainBus builds d's bus with its standard devices.
func newDomainBus(d *Domain) (*bus, error) {
	b := &bus{logf: d.logf}
	if err := b.register(SpacePort, abi.DebugPort, 1, "debug-port", debugPort{d}); err != nil {
		return nil, err
	}
	if d.Privileged {
		if err := b.register(SpacePort, com2Base, com2Ports, "com2", hostPorts{com2Base}); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// debugPort is port 0xe9 (the Bochs/QEMU convention): bytes written go to
// the domain's console; a read returns 0xe9, which is how guests detect it.
type debugPort struct{ d *Domain }

func (p debugPort) Read(off uint64, size int) uint64 { return abi.DebugPort }

func (p debugPort) Write(off uint64, size int, val uint64) { p.d.consoleBytes([]byte{byte(val)}) }

// COM2 (ports 0x2f8-0x2ff) belongs to the control domain: it is the host
// tool's channel, QEMU's second serial port.
const (
	com2Base  = 0x2f8
	com2Ports = 8
)

// hostPorts passes byte accesses straight through to the machine's ports
// from base; wider ones read all ones and are dropped, as the UART has only
// byte registers.
type hostPorts struct{ base uint16 }

func (h hostPorts) Read(off uint64, size int) uint64 {
	if size != 1 {
		return 0xffffffff
	}
	return uint64(kernel.PortIn8(h.base + uint16(off)))
}

func (h hostPorts) Write(off uint64, size int, val uint64) {
	if size == 1 {
		kernel.PortOut8(h.base+uint16(off), uint8(val))
	}
}
