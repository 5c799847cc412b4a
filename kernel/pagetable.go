package kernel

import "grove/x86/paging"

// The kernel's address space is a long-mode table tree walked by
// x86/paging: 2 MiB pages for the identity map (pagingInit), 4 KiB pages for
// the runtime's mappings (mm.go). Everything here is kernel context.

// pageTables is one address space's 4-level table. M is kernelPT in the
// image and an arena in host tests.
type pageTables[M paging.Alloc] struct{ paging.Tables[M] }

// tableFlags is what an entry pointing to a table carries: the leaf decides.
const tableFlags = paging.P | paging.RW | paging.US

// map4K maps the page at va to pa with flags (P is added).
// Kernel context.
func (pt *pageTables[M]) map4K(va, pa uintptr, flags uint64) error {
	e, err := pt.Entry(uint64(va), 0, tableFlags)
	if err != nil {
		return err
	}
	*e = uint64(pa)&paging.AddrMask | flags | paging.P
	return nil
}

// lookup returns the 4 KiB page entry for va, or 0 if none (large pages
// included).
// Kernel context.
func (pt *pageTables[M]) lookup(va uintptr) uint64 {
	e, level, ok := pt.Lookup(uint64(va))
	if !ok || level != 0 {
		return 0
	}
	return e
}

// unmapRange clears every 4 KiB mapping in [start, end) and calls release
// with each page's physical address; large pages stay. Missing tables are
// skipped whole; emptied tables stay. release must be a top-level function
// (a closure would be allocated).
// Kernel context.
func (pt *pageTables[M]) unmapRange(start, end uintptr, release func(va, pa uintptr)) {
	paging.Visit(&pt.Tables, uint64(start), uint64(end), unmapper{release})
}

// unmapper is unmapRange's paging.Visitor.
type unmapper struct{ release func(va, pa uintptr) }

// Kernel context.
func (u unmapper) Visit(va uint64, e *uint64, level int) {
	if level != 0 {
		return
	}
	pa := *e & paging.AddrMask
	*e = 0
	u.release(uintptr(va), uintptr(pa))
}
