package kernel

import (
	"syscall"
	"testing"
	"unsafe"
)

// newTestAlloc returns an allocator over npages whose bitmap is anonymous
// mmap memory. The allocator dereferences only the bitmap, never the pages
// it hands out. The bitmap is off the Go heap because the race detector's
// checkptr rejects wordAt(bits+off) into a heap object: that arithmetic
// starts from a bare uintptr, which is exactly how the kernel uses it.
func newTestAlloc(t testing.TB, npages uint64) *physAlloc {
	b, err := syscall.Mmap(-1, 0, int(max(pageSize, bitmapBytes(npages))),
		syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap bitmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(b) })
	a := &physAlloc{}
	a.initBitmap(uintptr(unsafe.Pointer(&b[0])), npages)
	return a
}
