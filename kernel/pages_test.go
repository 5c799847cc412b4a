package kernel

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// zeroPages leaves every page zero, whatever was in it, and writes nothing
// to a page that is zero already: here a read-only mapping, where a write
// would fault.
func TestZeroPages(t *testing.T) {
	const n = 8
	rw, err := syscall.Mmap(-1, 0, n*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(rw)
	r := rand.New(rand.NewPCG(1, 2))
	for p := 0; p < n; p++ {
		page := rw[p*pageSize : (p+1)*pageSize]
		switch p % 4 {
		case 0: // zero
		case 1: // one byte, somewhere
			page[r.IntN(pageSize)] = byte(1 + r.IntN(255))
		case 2: // the last byte only
			page[pageSize-1] = 0x80
		case 3: // garbage throughout
			for i := range page {
				page[i] = byte(r.Uint32())
			}
		}
	}
	zeroPages(uintptr(unsafe.Pointer(&rw[0])), n)
	for i, b := range rw {
		if b != 0 {
			t.Fatalf("byte %d (page %d) is %#x after zeroPages", i, i/pageSize, b)
		}
	}

	ro, err := syscall.Mmap(-1, 0, 4*pageSize, syscall.PROT_READ, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(ro)
	zeroPages(uintptr(unsafe.Pointer(&ro[0])), 4) // a write would be SIGSEGV
}
