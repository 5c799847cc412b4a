package pc

// PortRange is a device's claim on I/O ports, as the hypervisor registers
// it on the domain's bus (hv/devbus.go): Dev sees offsets from Base.
type PortRange struct {
	Base, Size uint16
	Name       string
	Dev        Device
}

// The ISA devices here (UART, PIT, RTC, legacy ports) have byte-wide
// registers. A wider IN or OUT reaches successive ports, low byte first,
// as the PC's bus splits it; ports past the device's range read all ones
// and ignore writes, as ports with nothing behind them do.

// readBytes assembles a size-byte read from rd over a device of n ports.
func readBytes(off uint64, size int, n uint64, rd func(off uint64) uint8) uint64 {
	var v uint64
	for i := 0; i < size && i < 8; i++ {
		b := uint64(0xff)
		if o := off + uint64(i); o < n {
			b = uint64(rd(o))
		}
		v |= b << (8 * i)
	}
	return v
}

// writeBytes splits a size-byte write into wr calls over n ports.
func writeBytes(off uint64, size int, val uint64, n uint64, wr func(off uint64, b uint8)) {
	for i := 0; i < size && i < 8; i++ {
		if o := off + uint64(i); o < n {
			wr(o, uint8(val>>(8*i)))
		}
	}
}
