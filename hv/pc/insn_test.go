package pc

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
)

// testRegs is a register file; every register starts distinct.
type testRegs [16]uint64

func newTestRegs() *testRegs {
	var r testRegs
	for i := range r {
		r[i] = 0x1020304050607080 + uint64(i)*0x0101010101010101
	}
	return &r
}

func (r *testRegs) GPR(i int) uint64       { return r[i] }
func (r *testRegs) SetGPR(i int, v uint64) { r[i] = v }

// deviceRead is what the fake device returns, before sizing.
const deviceRead = 0x8899AABBCCDDEEFF

// testDev records accesses as "r4", "w4=0x..." and answers deviceRead.
func testDev(log *[]string) func(bool, int, uint64) uint64 {
	return func(write bool, size int, val uint64) uint64 {
		if write {
			*log = append(*log, fmt.Sprintf("w%d=%#x", size, val))
			return 0
		}
		*log = append(*log, fmt.Sprintf("r%d", size))
		return deviceRead
	}
}

func TestEmulateMMIO(t *testing.T) {
	init := *newTestRegs()
	for _, tc := range []struct {
		code []byte
		mode int
		dev  string         // accesses, space-separated
		regs map[int]uint64 // registers changed
	}{
		// Loads.
		{[]byte{0x8B, 0x00}, 64, "r4", map[int]uint64{0: 0xCCDDEEFF}},
		{[]byte{0x48, 0x8B, 0x00}, 64, "r8", map[int]uint64{0: deviceRead}},
		{[]byte{0x4C, 0x8B, 0x00}, 64, "r8", map[int]uint64{8: deviceRead}},
		{[]byte{0x66, 0x8B, 0x08}, 64, "r2", map[int]uint64{1: init[1]&^0xFFFF | 0xEEFF}},
		{[]byte{0x8A, 0x20}, 64, "r1", map[int]uint64{0: init[0]&^0xFF00 | 0xFF00}},             // AH
		{[]byte{0x8A, 0x3F}, 64, "r1", map[int]uint64{3: init[3]&^0xFF00 | 0xFF00}},             // BH
		{[]byte{0x40, 0x8A, 0x20}, 64, "r1", map[int]uint64{4: init[4]&^0xFF | 0xFF}},           // SPL
		{[]byte{0x44, 0x8A, 0x38}, 64, "r1", map[int]uint64{15: init[15]&^0xFF | 0xFF}},         // R15B
		{[]byte{0x0F, 0xB6, 0x00}, 64, "r1", map[int]uint64{0: 0xFF}},                           // MOVZX EAX, byte
		{[]byte{0x66, 0x0F, 0xB7, 0x00}, 64, "r2", map[int]uint64{0: init[0]&^0xFFFF | 0xEEFF}}, // MOVZX AX, word
		{[]byte{0x48, 0x0F, 0xBF, 0x00}, 64, "r2", map[int]uint64{0: 0xFFFFFFFFFFFFEEFF}},       // MOVSX RAX, word
		{[]byte{0x0F, 0xBE, 0x00}, 64, "r1", map[int]uint64{0: 0xFFFFFFFF}},                     // MOVSX EAX, byte
		{[]byte{0x48, 0x63, 0x00}, 64, "r4", map[int]uint64{0: 0xFFFFFFFFCCDDEEFF}},             // MOVSXD
		{[]byte{0xA1, 0x30, 0x00, 0xE0, 0xFE}, 32, "r4", map[int]uint64{0: 0xCCDDEEFF}},         // moffs
		{[]byte{0x8B, 0x00}, 16, "r2", map[int]uint64{0: init[0]&^0xFFFF | 0xEEFF}},
		{[]byte{0x66, 0x8B, 0x00}, 16, "r4", map[int]uint64{0: 0xCCDDEEFF}},
		// Stores.
		{[]byte{0x89, 0x10}, 64, fmt.Sprintf("w4=%#x", init[2]&0xFFFFFFFF), nil},
		{[]byte{0x48, 0x89, 0x10}, 64, fmt.Sprintf("w8=%#x", init[2]), nil},
		{[]byte{0x4C, 0x89, 0x10}, 64, fmt.Sprintf("w8=%#x", init[10]), nil},
		{[]byte{0x88, 0x20}, 64, fmt.Sprintf("w1=%#x", init[0]>>8&0xFF), nil},
		{[]byte{0x40, 0x88, 0x20}, 64, fmt.Sprintf("w1=%#x", init[4]&0xFF), nil},
		{[]byte{0x66, 0x89, 0x10}, 64, fmt.Sprintf("w2=%#x", init[2]&0xFFFF), nil},
		{[]byte{0xC7, 0x00, 0x78, 0x56, 0x34, 0x12}, 64, "w4=0x12345678", nil},
		{[]byte{0x48, 0xC7, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}, 64, "w8=0xffffffffffffffff", nil},
		{[]byte{0xC6, 0x00, 0x80}, 64, "w1=0x80", nil},
		{[]byte{0x66, 0xC7, 0x00, 0x34, 0x12}, 64, "w2=0x1234", nil},
		{[]byte{0xA3, 0x30, 0x00}, 16, fmt.Sprintf("w2=%#x", init[0]&0xFFFF), nil},
		{[]byte{0x89, 0x90, 0xB0, 0, 0, 0}, 32, fmt.Sprintf("w4=%#x", init[2]&0xFFFFFFFF), nil},
		{[]byte{0x0F, 0xC3, 0x00}, 64, fmt.Sprintf("w4=%#x", init[0]&0xFFFFFFFF), nil}, // MOVNTI
		// XCHG: Linux's xAPIC write on CPUs with erratum 11AP.
		{[]byte{0x87, 0x10}, 64, fmt.Sprintf("r4 w4=%#x", init[2]&0xFFFFFFFF), map[int]uint64{2: 0xCCDDEEFF}},
		{[]byte{0xF0, 0x87, 0x10}, 64, fmt.Sprintf("r4 w4=%#x", init[2]&0xFFFFFFFF), map[int]uint64{2: 0xCCDDEEFF}},
		{[]byte{0x86, 0x30}, 64, fmt.Sprintf("r1 w1=%#x", init[2]>>8&0xFF), map[int]uint64{2: init[2]&^0xFF00 | 0xFF00}},
	} {
		t.Run(fmt.Sprintf("% x/%d", tc.code, tc.mode), func(t *testing.T) {
			regs, log := newTestRegs(), []string(nil)
			n, err := EmulateMMIO(tc.code, tc.mode, regs, testDev(&log))
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tc.code) {
				t.Errorf("length %d, want %d", n, len(tc.code))
			}
			if got := strings.Join(log, " "); got != tc.dev {
				t.Errorf("device saw %q, want %q", got, tc.dev)
			}
			want := init
			for i, v := range maps.All(tc.regs) {
				want[i] = v
			}
			for i := range want {
				if regs[i] != want[i] {
					t.Errorf("register %d = %#x, want %#x", i, regs[i], want[i])
				}
			}
		})
	}
}

func TestEmulateMMIORefuses(t *testing.T) {
	for _, tc := range []struct {
		code []byte
		mode int
		want string // in the error
	}{
		{[]byte{0x01, 0x00}, 64, "ADD"},
		{[]byte{0x0F, 0x10, 0x00}, 64, "MOVUPS"},
		{[]byte{0x89, 0xC0}, 64, "not one memory"},
		{[]byte{0xA5}, 64, "string moves"},
		{[]byte{0x8C, 0x00}, 64, "ES is not a general register"},
		{[]byte{0x8B}, 64, "truncated"},
		{nil, 64, "truncated"},
		{[]byte{0x8B, 0x00}, 8, "bad CPU mode"},
		{[]byte{0x0F, 0x0B}, 64, "UD2"},
		{[]byte{0xC5, 0xFC}, 64, "truncated"},             // VEX prefix, then the page ends
		{[]byte{0xC4, 0xE2, 0x7D}, 64, "truncated"},       // golang/go#81447
		{[]byte{0x62, 0xF1, 0x7C, 0x48}, 64, "truncated"}, // EVEX
	} {
		t.Run(fmt.Sprintf("% x/%d", tc.code, tc.mode), func(t *testing.T) {
			regs, log := newTestRegs(), []string(nil)
			_, err := EmulateMMIO(tc.code, tc.mode, regs, testDev(&log))
			if !errors.Is(err, ErrMMIOInstruction) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrMMIOInstruction mentioning %q", err, tc.want)
			}
			if len(log) != 0 || *regs != *newTestRegs() {
				t.Errorf("refused instruction acted: device %v", log)
			}
		})
	}
}

// FuzzEmulateMMIO: arbitrary bytes in any mode never panic, and what is
// emulated has a sane length and size.
func FuzzEmulateMMIO(f *testing.F) {
	for _, s := range [][]byte{{0x8B, 0x00}, {0x48, 0xC7, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}, {0x86, 0x30}, {0xA1, 0x30, 0x00, 0xE0, 0xFE}, {0xC4, 0xE2, 0x7D}} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, code []byte, m uint8) {
		mode := [...]int{16, 32, 64}[m%3]
		var log []string
		n, err := EmulateMMIO(code, mode, newTestRegs(), testDev(&log))
		if err != nil {
			return
		}
		if n < 1 || n > 15 || n > len(code) || len(log) == 0 {
			t.Errorf("% x/%d: length %d, accesses %v", code, mode, n, log)
		}
	})
}
