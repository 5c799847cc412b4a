package pc

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// fwcfgGet replays kvm-unit-tests' fwcfg_get_u (lib/x86/fwcfg.c): a 16-bit
// OUT of the key to 0x510, then n byte INs from 0x511, little-endian.
func fwcfgGet(f *FWCfg, key uint16, n int) uint64 {
	f.Write(0, 2, uint64(key))
	var v uint64
	for i := range n {
		v |= f.Read(1, 1) << (8 * i)
	}
	return v
}

func TestFWCfgItems(t *testing.T) {
	f := NewFWCfg(3, 128<<20)
	for _, tc := range []struct {
		key  uint16
		n    int
		want uint64
	}{
		{FWCfgSignature, 4, uint64(binary.LittleEndian.Uint32([]byte("QEMU")))},
		{FWCfgID, 4, 1},
		{FWCfgRAMSize, 8, 128 << 20},
		{FWCfgNbCPUs, 2, 3},
		{FWCfgMaxCPUs, 2, 3},
		{0x11, 8, 0},        // kvm-unit-tests' FW_CFG_MAX_RAM: unknown, zero
		{0x19, 4, 0},        // FW_CFG_FILE_DIR: no files
		{0x8000, 4, 0},      // arch-local keys: none
		{0xffff, 8, 0},      // FW_CFG_INVALID
		{FWCfgNbCPUs, 8, 3}, // past the item's end: zeroes
	} {
		t.Run(fmt.Sprintf("key%#x-%dbytes", tc.key, tc.n), func(t *testing.T) {
			if got := fwcfgGet(f, tc.key, tc.n); got != tc.want {
				t.Errorf("read %#x, want %#x", got, tc.want)
			}
		})
	}
}

// TestFWCfgAccessWidths: QEMU decodes the pair by width (a byte read is
// data at either port, a word write selects at either port); data writes
// and odd widths change nothing.
func TestFWCfgAccessWidths(t *testing.T) {
	f := NewFWCfg(2, 64<<20)
	if b := f.Read(1, 1); b != 'Q' {
		t.Errorf("first byte after reset %#x, want 'Q' (selector 0)", b)
	}
	f.Write(1, 2, FWCfgNbCPUs)  // word write at the data port selects
	f.Write(1, 1, 0x55)         // data write: dropped
	f.Write(0, 4, FWCfgRAMSize) // dword: not a selector write
	if b := f.Read(0, 1); b != 2 {
		t.Errorf("byte read at the selector port %#x, want 2 (NB_CPUS's first byte)", b)
	}
	for _, size := range []int{2, 4} {
		if v := f.Read(1, size); v != 1<<(8*size)-1 {
			t.Errorf("%d-byte read %#x, want all ones", size, v)
		}
	}
	if b := f.Read(1, 1); b != 0 {
		t.Errorf("NB_CPUS's second byte %#x, want 0", b)
	}
}

// FuzzFWCfg drives the device with arbitrary accesses: nothing may panic
// and the CPU count always reads back whole after a selector write.
func FuzzFWCfg(f *testing.F) {
	f.Add([]byte{0, 2, 5, 0, 1, 1, 0, 1, 1, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		d := NewFWCfg(4, 1<<30)
		for len(ops) >= 4 {
			off, size, val := uint64(ops[0]&1), 1<<(ops[1]&3), uint64(ops[2])|uint64(ops[3])<<8
			if ops[1]&4 != 0 {
				d.Write(off, size, val)
			} else {
				d.Read(off, size)
			}
			ops = ops[4:]
		}
		if n := fwcfgGet(d, FWCfgNbCPUs, 2); n != 4 {
			t.Fatalf("NB_CPUS reads %d after the sequence", n)
		}
	})
}
