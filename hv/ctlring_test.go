package hv

import (
	"strings"
	"testing"
)

// fakePCI is bus 0 with devices whose BARs size like real ones: written
// all ones, a BAR reads back its size mask.
type fakePCI struct {
	regs              map[uint8]map[uint8]uint32 // dev -> reg -> value
	sizes             map[uint8]uint64           // dev -> BAR 2's size
	cmdOffWhileSizing bool
}

func (f *fakePCI) read(dev, reg uint8) uint32 {
	if f.regs[dev] == nil {
		return ^uint32(0) // no device
	}
	return f.regs[dev][reg]
}

func (f *fakePCI) write(dev, reg uint8, v uint32) {
	r := f.regs[dev]
	if r == nil {
		return
	}
	switch {
	case reg == 0x18 && v == ^uint32(0):
		f.cmdOffWhileSizing = r[pciCommand]&pciCmdMem == 0
		v = uint32(^(f.sizes[dev] - 1)) | r[0x18]&0xf
	case reg == 0x1c && v == ^uint32(0):
		v = uint32(^(f.sizes[dev] - 1) >> 32)
	}
	r[reg] = v
}

func ivshmemAt(dev uint8, base, size uint64) *fakePCI {
	return &fakePCI{
		regs: map[uint8]map[uint8]uint32{
			0:   {0: 0x12378086},
			dev: {0: 0x11101af4, pciCommand: 3, 0x18: uint32(base) | 0xc, 0x1c: uint32(base >> 32)},
		},
		sizes: map[uint8]uint64{dev: size},
	}
}

func TestProbeIvshmem(t *testing.T) {
	f := ivshmemAt(3, 0xfe000000, 1<<20)
	base, size, why := probeIvshmem(f)
	if base != 0xfe000000 || size != 1<<20 || why != "" {
		t.Fatalf("probe: %#x %#x %q", base, size, why)
	}
	if !f.cmdOffWhileSizing {
		t.Error("BAR sized with memory decoding on")
	}
	if r := f.regs[3]; r[0x18] != 0xfe00000c || r[0x1c] != 0 || r[pciCommand]&pciCmdMem == 0 {
		t.Errorf("BAR or command not restored: %#x %#x %#x", r[0x18], r[0x1c], r[pciCommand])
	}
	for name, c := range map[string]struct {
		pci  *fakePCI
		want string
	}{
		"absent":     {&fakePCI{regs: map[uint8]map[uint8]uint32{0: {0: 0x12378086}}}, "no ivshmem-plain"},
		"unassigned": {ivshmemAt(4, 0, 1<<20), "unassigned"},
		"above 4G":   {ivshmemAt(4, 0x100000000, 1<<20), "above the 4 GiB"},
		"32-bit BAR": {func() *fakePCI { f := ivshmemAt(4, 0xfe000000, 1<<20); f.regs[4][0x18] = 0xfe000008; return f }(), "not a 64-bit"},
	} {
		_, size, why := probeIvshmem(c.pci)
		if size != 0 || !strings.Contains(why, c.want) {
			t.Errorf("%s: size %#x, why %q, want %q", name, size, why, c.want)
		}
	}
}
