package hv

import "unsafe"

// The only integer-to-pointer conversions in hv: guest RAM and nested page
// tables are identity-mapped kernel pages.

func tableAt(pa uintptr) *[512]uint64 { return (*[512]uint64)(unsafe.Pointer(pa)) }

func hostBytes(pa uintptr, n uint64) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(pa)), n) }

// Sizes of the Go-heap part of a domain, for its overhead figure.
var (
	domainSize = int(unsafe.Sizeof(Domain{}))
	vcpuSize   = int(unsafe.Sizeof(VCPU{}))
)
