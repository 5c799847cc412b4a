package kernel

import (
	"math/bits"

	"grove/x86/paging"
)

// pageSize is the only page size the allocator hands out.
const pageSize = paging.PageSize

// physAlloc is the physical page allocator: one bit per 4 KiB page of the
// physical address space up to the highest usable address, set = in use.
// The bitmap lives in memory given at init (physical pages, or a slice in
// host tests), so the allocator never touches the Go heap. Callers serialize
// (the kernel runs it in kernel context, under the BKL).
type physAlloc struct {
	bits   uintptr // address of the bitmap (uint64 words)
	npages uint64  // pages covered
	hint   uint64  // word index to start searching from
	free   uint64  // free pages
	total  uint64  // pages that were ever free (usable RAM)
	min    uint64  // lowest free page seen since ResetMin
}

// errNoMemory is returned when no free page (or run) exists.
const errNoMemory = bootError("out of physical memory")

// Kernel context.
func (a *physAlloc) word(i uint64) *uint64 { return wordAt(a.bits + uintptr(i*8)) }

// initBitmap covers npages pages with the bitmap at addr, all marked in use.
// Boot path.
func (a *physAlloc) initBitmap(addr uintptr, npages uint64) {
	a.bits, a.npages = addr, npages
	for i := uint64(0); i < (npages+63)/64; i++ {
		*a.word(i) = ^uint64(0)
	}
	a.free, a.total, a.hint = 0, 0, 0
	a.min = ^uint64(0)
}

// bitmapBytes is the size of the bitmap for npages pages.
// Boot path.
func bitmapBytes(npages uint64) uint64 { return (npages + 63) / 64 * 8 }

// release marks [base, base+len) free, shrunk inward to whole pages.
// Boot path.
func (a *physAlloc) release(base, length uint64) {
	first, end := base/pageSize, (base+length)/pageSize
	if base%pageSize != 0 {
		first++ // not base+pageSize-1: that wraps for base near 2^64
	}
	if base+length < base {
		end = a.npages // runs past 2^64
	}
	for p := first; p < end && p < a.npages; p++ {
		if a.test(p) {
			a.clear(p)
			a.free++
			a.total++
		}
	}
}

// reserve marks [base, base+len) in use, grown outward to whole pages.
// Boot path.
func (a *physAlloc) reserve(base, length uint64) {
	first, end := base/pageSize, (base+length)/pageSize
	if (base+length)%pageSize != 0 {
		end++
	}
	if base+length < base {
		end = a.npages // runs past 2^64
	}
	for p := first; p < end && p < a.npages; p++ {
		if !a.test(p) {
			a.set(p)
			a.took(1)
			a.total--
		}
	}
}

// took accounts for n pages leaving the free pool, keeping min the low-water
// mark of free.
// Kernel context.
func (a *physAlloc) took(n uint64) {
	a.free -= n
	if a.free < a.min {
		a.min = a.free
	}
}

// Kernel context.
func (a *physAlloc) test(p uint64) bool { return *a.word(p / 64)&(1<<(p%64)) != 0 }

// Kernel context.
func (a *physAlloc) set(p uint64) { *a.word(p / 64) |= 1 << (p % 64) }

// Kernel context.
func (a *physAlloc) clear(p uint64) { *a.word(p / 64) &^= 1 << (p % 64) }

// alloc returns the physical address of one free page (contents undefined).
// Kernel context.
func (a *physAlloc) alloc() (uintptr, error) {
	words := (a.npages + 63) / 64
	for n := uint64(0); n < words; n++ {
		i := (a.hint + n) % words
		w := *a.word(i)
		if w == ^uint64(0) {
			continue
		}
		bit := uint64(bits.TrailingZeros64(^w))
		p := i*64 + bit
		if p >= a.npages {
			continue
		}
		a.set(p)
		a.took(1)
		a.hint = i
		return uintptr(p * pageSize), nil
	}
	return 0, errNoMemory
}

// allocRun returns n physically contiguous pages aligned to align pages.
// Kernel context.
func (a *physAlloc) allocRun(n, align uint64) (uintptr, error) {
	if n == 0 || align == 0 {
		return 0, bootError("allocRun: zero size or alignment")
	}
	for start := uint64(0); n <= a.npages && start <= a.npages-n; start += align {
		ok := true
		for p := start; p < start+n; p++ {
			if a.test(p) {
				ok = false
				start = (p / align) * align // skip past the used page
				break
			}
		}
		if ok {
			for p := start; p < start+n; p++ {
				a.set(p)
			}
			a.took(n)
			return uintptr(start * pageSize), nil
		}
	}
	return 0, errNoMemory
}

// freePage gives one page back. Freeing a free or out-of-range page is a
// kernel bug and reported as such.
// Kernel context.
func (a *physAlloc) freePage(pa uintptr) error {
	p := uint64(pa) / pageSize
	if uint64(pa)%pageSize != 0 || p >= a.npages || !a.test(p) {
		return bootError("free of a page that is not allocated")
	}
	a.clear(p)
	a.free++
	if p/64 < a.hint {
		a.hint = p / 64
	}
	return nil
}
