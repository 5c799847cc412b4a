package kernel

// x86-64 4-level paging (AMD APM vol. 2, 5.3): PML4 -> PDPT -> PD -> PT.
const (
	pteP   = 1 << 0
	pteRW  = 1 << 1
	pteUS  = 1 << 2
	ptePWT = 1 << 3
	ptePCD = 1 << 4
	ptePS  = 1 << 7
	pteG   = 1 << 8
	pteNX  = 1 << 63

	pteAddrMask = 0x000ffffffffff000
)

// ptMem is where page tables come from and how they are reached. The kernel
// uses physical pages through the identity map; host tests use an arena.
type ptMem interface {
	allocTable() (uintptr, error) // a zeroed page
	table(pa uintptr) *[512]uint64
	freeTable(pa uintptr)
}

// pageTables is one address space's 4-level table.
type pageTables struct {
	root uintptr
	mem  ptMem
}

func ptIndex(va uintptr, level int) int { return int(va>>(12+9*uint(level))) & 511 }

// pte returns the level-0 entry for va, creating intermediate tables when
// create is set. It returns nil if a table is missing (and !create), or if va
// lies in a large page.
func (pt *pageTables) pte(va uintptr, create bool) (*uint64, error) {
	t := pt.mem.table(pt.root)
	for level := 3; level > 0; level-- {
		e := &t[ptIndex(va, level)]
		if *e&pteP == 0 {
			if !create {
				return nil, nil
			}
			pa, err := pt.mem.allocTable()
			if err != nil {
				return nil, err
			}
			*e = uint64(pa) | pteP | pteRW | pteUS
		} else if *e&ptePS != 0 {
			return nil, nil
		}
		t = pt.mem.table(uintptr(*e & pteAddrMask))
	}
	return &t[ptIndex(va, 0)], nil
}

// map4K maps the page at va to pa with flags (pteP is added).
func (pt *pageTables) map4K(va, pa uintptr, flags uint64) error {
	e, err := pt.pte(va, true)
	if err != nil {
		return err
	}
	if e == nil {
		return bootError("map4K: address lies in a large page")
	}
	*e = uint64(pa)&pteAddrMask | flags | pteP
	return nil
}

// lookup returns the level-0 entry for va, or 0 if none.
func (pt *pageTables) lookup(va uintptr) uint64 {
	e, _ := pt.pte(va, false)
	if e == nil {
		return 0
	}
	return *e
}

// unmapRange clears every 4 KiB mapping in [start, end) and calls release
// with each page's physical address. Missing tables are skipped whole, so a
// huge sparse range costs only the tables that exist. Emptied tables stay.
func (pt *pageTables) unmapRange(start, end uintptr, release func(va, pa uintptr)) {
	pt.unmapLevel(pt.root, 3, 0, start, end, release)
}

func (pt *pageTables) unmapLevel(table uintptr, level int, base, start, end uintptr, release func(va, pa uintptr)) {
	t := pt.mem.table(table)
	span := uintptr(1) << (12 + 9*uint(level))
	for i := ptIndex(start, level); i < 512; i++ {
		lo := base + uintptr(i)*span
		if level == 3 && i >= 256 {
			lo |= 0xffff000000000000 // sign-extend canonical upper half
		}
		if lo >= end {
			return
		}
		e := t[i]
		if e&pteP == 0 || (level > 0 && e&ptePS != 0) {
			continue
		}
		if level == 0 {
			t[i] = 0
			release(lo, uintptr(e&pteAddrMask))
			continue
		}
		s := start
		if s < lo {
			s = lo
		}
		pt.unmapLevel(uintptr(e&pteAddrMask), level-1, lo, s, end, release)
	}
}
