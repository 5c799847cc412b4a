package kernel

import "unsafe"

// The kernel's memory is identity mapped: a physical address is also a
// pointer. These helpers are the only places that turn integers into pointers.

// Kernel context.
func wordAt(addr uintptr) *uint64 { return (*uint64)(unsafe.Pointer(addr)) }

// Kernel context.
func bytesAt(addr uintptr, n uintptr) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(addr)), n)
}

// Kernel context.
func tableAt(addr uintptr) *[512]uint64 { return (*[512]uint64)(unsafe.Pointer(addr)) }

// Kernel context.
func zeroPage(addr uintptr) {
	p := tableAt(addr)
	for i := range p {
		p[i] = 0
	}
}

// identityMem reads physical memory directly (kernel context, boot time).
type identityMem struct{}

// Boot path.
func (identityMem) read(addr, n uint64) []byte {
	if addr == 0 || addr+n < addr || addr+n > 1<<32 {
		return nil
	}
	return bytesAt(uintptr(addr), uintptr(n))
}

// Kernel context.
func uint32At(addr uintptr) *uint32 { return (*uint32)(unsafe.Pointer(addr)) }

// Kernel context.
func uintptrOf[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// ptrAt turns an identity-mapped (or user) address into a typed pointer.
// Kernel context.
func ptrAt[T any](addr uintptr) *T { return (*T)(unsafe.Pointer(addr)) }

// sizeOf is unsafe.Sizeof for a type.
// Kernel context.
func sizeOf[T any]() uintptr {
	var v T
	return unsafe.Sizeof(v)
}

// stringBytes views a string's bytes without copying (kernel context cannot
// allocate); the caller must not write them.
// Kernel context.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// bytesString views bytes as a string without copying.
// Boot path.
func bytesString(b []byte) string { return unsafe.String(&b[0], len(b)) }
