package pc

import (
	"fmt"
	"math"
	"testing"
)

// TestTimebase: nsOfCount is the first instant countAt reaches n, for both
// device rates, up to counts whose ns*hz product overflows 64 bits.
func TestTimebase(t *testing.T) {
	for _, hz := range []uint64{PITHz, PMTimerHz} {
		for _, n := range []uint64{1, 2, 3, 1000, 65536, 1 << 32, 1 << 40} {
			t.Run(fmt.Sprintf("%dHz/%d", hz, n), func(t *testing.T) {
				ns := nsOfCount(n, hz)
				if countAt(ns, hz) < n || countAt(ns-1, hz) >= n {
					t.Errorf("nsOfCount = %d: countAt there %d, just before %d", ns, countAt(ns, hz), countAt(ns-1, hz))
				}
			})
		}
	}
	if countAt(-5, PITHz) != 0 || countAt(math.MaxInt64, PMTimerHz) == 0 {
		t.Error("countAt at the ends of int64")
	}
	if nsOfCount(math.MaxUint64, PITHz) != math.MaxInt64 {
		t.Error("nsOfCount does not saturate")
	}
}
