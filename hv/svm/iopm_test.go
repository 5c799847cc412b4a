package svm

import (
	"fmt"
	"testing"
)

func TestSetIOPMBits(t *testing.T) {
	for _, tc := range []struct {
		first uint16
		n     int
		bytes map[int]byte // bytes of the map that are not all ones afterwards
	}{
		{0x2f8, 8, map[int]byte{0x5f: 0}},
		{0x3f8, 1, map[int]byte{0x7f: 0xfe}},
		{0x3fe, 3, map[int]byte{0x7f: 0x3f, 0x80: 0xfe}},
		{0xffff, 1, map[int]byte{0x1fff: 0x7f}},
	} {
		t.Run(fmt.Sprintf("%#x+%d", tc.first, tc.n), func(t *testing.T) {
			m := make([]byte, 12<<10)
			for i := range m {
				m[i] = 0xff
			}
			setIOPMBits(m, tc.first, tc.n, false)
			for i, b := range m {
				want, ok := tc.bytes[i]
				if !ok {
					want = 0xff
				}
				if b != want {
					t.Fatalf("byte %#x = %#x, want %#x", i, b, want)
				}
			}
			setIOPMBits(m, tc.first, tc.n, true)
			for i, b := range m {
				if b != 0xff {
					t.Fatalf("after intercepting again, byte %#x = %#x", i, b)
				}
			}
		})
	}
}
