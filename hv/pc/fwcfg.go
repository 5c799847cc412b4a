package pc

import (
	"encoding/binary"
	"sync"
)

// FWCfg is QEMU's firmware configuration device through its traditional
// I/O-port interface (QEMU docs/specs/fw_cfg.rst): a guest writes an item's
// 16-bit selector key to port 0x510 and reads the item's bytes one at a
// time from port 0x511. QEMU's test kernels (kvm-unit-tests lib/x86/fwcfg.c)
// read the CPU count and RAM size this way. Modelled: the signature, the ID
// (traditional interface only: no DMA), RAM size, CPU count and maximum;
// any other key, and reads past an item's end, give zeroes. Writes to the
// data port are dropped, as QEMU has done since 2.4; the selector's
// write-channel bit (0x4000) selects nothing writable.
type FWCfg struct {
	mu    sync.Mutex
	items map[uint16][]byte // fixed at construction
	sel   []byte            // the selected item (nil: an unknown key)
	off   int               // next byte of it to read
}

// Ports and items (fw_cfg.rst, "Selector Register", "Data Register",
// "Legacy selector keys"; QEMU include/standard-headers/linux/qemu_fw_cfg.h).
const (
	FWCfgPort = 0x510 // selector, 16 bits; data at +1, 8 bits

	FWCfgSignature = 0x00 // "QEMU"
	FWCfgID        = 0x01 // u32 feature bits: bit 0 traditional interface, bit 1 DMA
	FWCfgRAMSize   = 0x03 // u64 bytes
	FWCfgNbCPUs    = 0x05 // u16 CPUs present at boot
	FWCfgMaxCPUs   = 0x0f // u16 CPUs possible

	fwCfgIDTraditional = 1 << 0
)

// NewFWCfg returns the device for a domain with cpus vCPUs and ramBytes of
// RAM.
func NewFWCfg(cpus int, ramBytes uint64) *FWCfg {
	le := binary.LittleEndian
	f := &FWCfg{items: map[uint16][]byte{
		FWCfgSignature: []byte("QEMU"),
		FWCfgID:        le.AppendUint32(nil, fwCfgIDTraditional),
		FWCfgRAMSize:   le.AppendUint64(nil, ramBytes),
		FWCfgNbCPUs:    le.AppendUint16(nil, uint16(cpus)),
		FWCfgMaxCPUs:   le.AppendUint16(nil, uint16(cpus)),
	}}
	f.sel = f.items[FWCfgSignature] // the selector resets to 0
	return f
}

// Ranges is the device's claim: selector and data.
func (f *FWCfg) Ranges() []PortRange {
	return []PortRange{{Base: FWCfgPort, Size: 2, Name: "fw_cfg", Dev: f}}
}

// The two ports decode by width, not by address, as QEMU's x86 pair does
// (hw/nvram/fw_cfg.c, fw_cfg_comb_*): a byte read is a data read and a
// 16-bit write a selector write at either port; a byte write is a data
// write, which is dropped. Other widths read all ones.

func (f *FWCfg) Read(off uint64, size int) uint64 {
	if size != 1 {
		return 1<<(8*min(size, 8)) - 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off >= len(f.sel) {
		return 0
	}
	b := f.sel[f.off]
	f.off++
	return uint64(b)
}

func (f *FWCfg) Write(off uint64, size int, val uint64) {
	if size != 2 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sel, f.off = f.items[uint16(val)], 0
}
