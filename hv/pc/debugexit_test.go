package pc

import (
	"fmt"
	"testing"
)

// TestDebugExit: the first write ends the machine with the value written
// (kvm-unit-tests' exit() does outl(code, 0xf4)), at the access's width;
// later writes and reads change nothing.
func TestDebugExit(t *testing.T) {
	for _, tc := range []struct {
		off  uint64
		size int
		val  uint64
		want uint64
	}{
		{0, 4, 0, 0},
		{0, 4, 1, 1},
		{0, 4, 77 >> 1, 38},
		{0, 1, 0x1ff, 0xff},
		{2, 2, 0x12345, 0x2345},
		{0, 4, 0xffffffff, 0xffffffff},
	} {
		t.Run(fmt.Sprintf("off%d-size%d-%#x", tc.off, tc.size, tc.val), func(t *testing.T) {
			var got []uint64
			e := NewDebugExit(func(s uint64) { got = append(got, s) })
			if v := e.Read(0, 4); v != 0 {
				t.Errorf("read %#x", v)
			}
			e.Write(tc.off, tc.size, tc.val)
			e.Write(0, 4, 99)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("exits %v, want one with %#x", got, tc.want)
			}
		})
	}
}
