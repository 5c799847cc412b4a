//go:build !linux || !amd64 || race

package rcu

// Elsewhere, and under the race detector (which cannot see the ordering a
// membarrier gives, and would rightly report the plain slot stores as
// races), every State uses the fenced flavour.
const plainStores = false

func expedited() bool { return false }

func membarrier() { panic("rcu: membarrier without the expedited flavour") }
