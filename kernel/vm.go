package kernel

// The Go runtime's view of memory: Linux-style anonymous mappings, backed on
// first touch. Physical RAM is identity mapped below identEnd (kernel image,
// page tables, guests' pages); mappings the runtime asks for live above it, at
// its hint when free, else from a bump pointer.

const (
	protRead  = 1
	protWrite = 2
	protExec  = 4

	mapFixed          = 0x10
	mapAnonymous      = 0x20
	mapFixedNoReplace = 0x100000

	userTop  = 0x00007ffffffff000
	mmapBase = 0x0000100000000000

	maxVMAs = 512
)

// vma is a mapped range [start, end) with protection prot.
type vma struct {
	start, end uintptr
	prot       uint32
}

// addressSpace is the (single) process's memory: page tables plus mappings.
type addressSpace struct {
	pt        pageTables[kernelPT]
	vmas      [maxVMAs]vma
	n         int
	identEnd  uintptr // end of the identity map
	mmapNext  uintptr
	userPages uint64 // pages backing mappings
}

// find returns the index of the mapping containing addr, or -1.
// Kernel context.
func (as *addressSpace) find(addr uintptr) int {
	lo, hi := 0, as.n
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case addr < as.vmas[m].start:
			hi = m
		case addr >= as.vmas[m].end:
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

// free reports whether no mapping overlaps [start, end).
// Kernel context.
func (as *addressSpace) free(start, end uintptr) bool {
	for i := 0; i < as.n; i++ {
		if as.vmas[i].start < end && start < as.vmas[i].end {
			return false
		}
	}
	return true
}

// Kernel context.
func (as *addressSpace) insertAt(i int, v vma) bool {
	if as.n == maxVMAs {
		return false
	}
	copy(as.vmas[i+1:as.n+1], as.vmas[i:as.n])
	as.vmas[i] = v
	as.n++
	return true
}

// Kernel context.
func (as *addressSpace) removeAt(i int) {
	copy(as.vmas[i:as.n-1], as.vmas[i+1:as.n])
	as.n--
}

// carve removes [start, end) from every mapping, splitting where needed.
// Kernel context.
func (as *addressSpace) carve(start, end uintptr) bool {
	for i := 0; i < as.n; i++ {
		v := as.vmas[i]
		if v.end <= start || v.start >= end {
			continue
		}
		switch {
		case v.start < start && v.end > end: // split in two
			if as.n == maxVMAs {
				return false // before touching v, so failure changes nothing
			}
			as.vmas[i].end = start
			as.insertAt(i+1, vma{end, v.end, v.prot})
			return true
		case v.start < start:
			as.vmas[i].end = start
		case v.end > end:
			as.vmas[i].start = end
		default:
			as.removeAt(i)
			i--
		}
	}
	return true
}

// setRange makes [start, end) one mapping with prot, merging equal neighbours.
// Kernel context.
func (as *addressSpace) setRange(start, end uintptr, prot uint32) bool {
	// Count the slots carve and insertAt will use before changing anything:
	// failing halfway would drop mappings whose pages are still mapped.
	need := as.n + 1
	for _, v := range as.vmas[:as.n] {
		if v.start >= start && v.end <= end {
			need--
		} else if v.start < start && v.end > end {
			need++
		}
	}
	if need > maxVMAs {
		return false
	}
	as.carve(start, end)
	i := 0
	for i < as.n && as.vmas[i].start < start {
		i++
	}
	if !as.insertAt(i, vma{start, end, prot}) {
		return false
	}
	if i+1 < as.n && as.vmas[i+1].start == end && as.vmas[i+1].prot == prot {
		as.vmas[i].end = as.vmas[i+1].end
		as.removeAt(i + 1)
	}
	if i > 0 && as.vmas[i-1].end == start && as.vmas[i-1].prot == prot {
		as.vmas[i-1].end = as.vmas[i].end
		as.removeAt(i)
	}
	return true
}

// place picks the address of a new mapping of length n (page multiple).
// Kernel context.
func (as *addressSpace) place(hint, n uintptr, fixed bool) (uintptr, bool) {
	ok := hint%pageSize == 0 && hint >= as.identEnd && hint+n > hint && hint+n <= userTop
	if fixed {
		return hint, ok
	}
	if ok && as.free(hint, hint+n) {
		return hint, true
	}
	for n != 0 && as.mmapNext+n > as.mmapNext && as.mmapNext+n <= userTop {
		a := as.mmapNext
		as.mmapNext += n
		if as.free(a, a+n) {
			return a, true
		}
	}
	return 0, false
}
