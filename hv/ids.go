package hv

import "grove/errno"

// MaxDomID is the highest id an unprivileged domain gets by default. As in
// Xen, ids from DOMID_FIRST_RESERVED (0x7ff0, xen/include/public/xen.h) up are
// reserved for special meanings; id 0 is the control domain's.
const MaxDomID DomID = 0x7fef

// idSpace hands out the ids 1..max next-fit: the search starts after the id
// handed out last and wraps, so a freed id is reused as late as possible (a
// stale id in a controller's hands then rarely names a new domain). It is
// not safe for concurrent use: Hypervisor.mu guards the hypervisor's.
type idSpace struct {
	max  DomID
	last DomID    // handed out last; the search starts after it
	used []uint64 // bit id set = taken
	n    int      // ids taken
}

func newIDSpace(max DomID) *idSpace {
	if max < 1 {
		panic("hv: an id space needs at least one id")
	}
	return &idSpace{max: max, used: make([]uint64, int(max)/64+1)}
}

// alloc takes the next free id after the last one handed out; ENOSPC when
// all of 1..max are taken.
func (s *idSpace) alloc() (DomID, error) {
	if s.n == int(s.max) {
		return 0, errno.ENOSPC
	}
	id := s.last
	for {
		if id >= s.max {
			id = 1
		} else {
			id++
		}
		if !s.taken(id) {
			break
		}
	}
	s.used[id/64] |= 1 << (id % 64)
	s.n++
	s.last = id
	return id, nil
}

// free gives id back. Freeing an id that is not taken (or 0, or one beyond
// max) is a bug in the caller.
func (s *idSpace) free(id DomID) {
	if id < 1 || id > s.max || !s.taken(id) {
		panic("hv: freeing a domain id that is not taken")
	}
	s.used[id/64] &^= 1 << (id % 64)
	s.n--
}

func (s *idSpace) taken(id DomID) bool { return s.used[id/64]&(1<<(id%64)) != 0 }
