package svm

import "grove/kernel"

// I/O permission maps (APM vol. 2, 15.10.1 "I/O Interception"): one bit per
// port, set to intercept; an access of several bytes exits if any of its
// ports' bits is set. The shared map (Enable) intercepts every port. A
// domain that drives a device's ports itself gets a map of its own
// (IOPMPages pages from its allocator, in GuestInit.IOPM) where they pass.
// The CPU reads the map at each IN or OUT, so a change applies to the
// domain's next access, running or not.

// IOPMPages is an I/O permission map's size in pages (12 KiB).
const IOPMPages = iopmPages

// InitIOPM makes the map at pa (IOPMPages identity-mapped pages)
// intercept every port.
func InitIOPM(pa uintptr) { fill(pa, iopmPages*kernel.PageSize) }

// PassPorts lets ports first..first+n-1 through the map at pa without
// exits (pass), or intercepts them again.
func PassPorts(pa uintptr, first uint16, n int, pass bool) {
	setIOPMBits(bytesAt(pa, iopmPages*kernel.PageSize), first, n, !pass)
}

// setIOPMBits sets (intercept) or clears the bits of ports first..first+n-1
// in the map m.
func setIOPMBits(m []byte, first uint16, n int, intercept bool) {
	for p := int(first); p < int(first)+n; p++ {
		if intercept {
			m[p/8] |= 1 << (p % 8)
		} else {
			m[p/8] &^= 1 << (p % 8)
		}
	}
}
