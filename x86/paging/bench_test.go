package paging

import "testing"

// BenchmarkWalk maps, looks up and clears 512 pages.
func BenchmarkWalk(b *testing.B) {
	tt, _ := newTables(b, 16)
	const base = 0x1000_0000_0000
	for b.Loop() {
		for i := uint64(0); i < 512; i++ {
			mapPage(b, tt, base+i*PageSize, 0x5000)
		}
		for i := uint64(0); i < 512; i++ {
			if _, _, ok := tt.Lookup(base + i*PageSize); !ok {
				b.Fatal("lost")
			}
		}
		Visit(tt, base, base+512*PageSize, nop{})
	}
}
