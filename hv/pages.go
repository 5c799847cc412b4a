package hv

import (
	"sync/atomic"

	"grove/kernel"
)

// The hypervisor counts the kernel pages it holds for domains (guest RAM,
// VMCBs) itself: the kernel hands pages out and keeps no account of who
// holds them. The self-tests check that a destroyed domain gives every page
// back.

var pagesHeld atomic.Int64

// allocPages is kernel.AllocPages, counted.
func allocPages(n, align int) (uintptr, error) {
	pa, err := kernel.AllocPages(n, align)
	if err == nil {
		pagesHeld.Add(int64(n))
	}
	return pa, err
}

// freePages is kernel.FreePages, counted. The kernel refuses only pages it
// never handed out, which is a bug here: the count then stays as it was.
func freePages(pa uintptr, n int) {
	if kernel.FreePages(pa, n) == nil {
		pagesHeld.Add(-int64(n))
	}
}

// PagesHeld is how many kernel pages the hypervisor holds for domains.
func PagesHeld() int64 { return pagesHeld.Load() }
