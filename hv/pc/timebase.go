package pc

import (
	"math"
	"math/bits"
)

// Counting devices (PIT, PM timer) derive their counts from the domain's
// Clock rather than from how often the guest looks, so a counter tracks
// real time however slow port exits are. The conversions use 128-bit
// products: ns*hz overflows 64 bits after two hours at 1.19 MHz.

// countAt is how many whole periods of an hz clock fit in ns nanoseconds.
func countAt(ns int64, hz uint64) uint64 {
	if ns <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(ns), hz)
	q, _ := bits.Div64(hi, lo, 1e9) // hi < 1e9 for hz < 2^29
	return q
}

// nsOfCount is the first time in nanoseconds at which countAt reaches n:
// ceil(n*1e9/hz), or MaxInt64 when that is beyond int64.
func nsOfCount(n, hz uint64) int64 {
	hi, lo := bits.Mul64(n, 1e9)
	lo, carry := bits.Add64(lo, hz-1, 0)
	hi += carry
	if hi >= hz {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, hz)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}
