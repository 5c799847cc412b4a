package svm

import (
	"runtime"
	"unsafe"
)

// The only conversions between integers and pointers in this package: VMCBs
// and permission maps are identity-mapped physical pages.

func bytesAt(pa uintptr, n int) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(pa)), n) }

func addrOf[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// Kernel context.
func ptr(a uintptr) unsafe.Pointer { return unsafe.Pointer(a) }

// at turns a physical (identity-mapped) address into a typed pointer.
func at[T any](a uintptr) *T { return (*T)(unsafe.Pointer(a)) }

func alignUp(a, n uintptr) uintptr { return (a + n - 1) &^ (n - 1) }

func keepAlive(p any) { runtime.KeepAlive(p) }
