package hv

import (
	"errors"
	"fmt"
	"sync"

	"grove/errno"
	"grove/hv/abi"
	"grove/hv/npt"
	"grove/kernel"
)

// The host channel's shared memory (package ctl/ring has its layout): under
// QEMU, an ivshmem-plain PCI device whose BAR 2 is RAM backed by a file on
// the host that grovectl maps too. The hypervisor only finds it and, when
// the control domain asks (sysctl ctlring), maps it into that domain at its
// host-physical address (guests identity-map the low 4 GiB); the agent and
// grovectl do the rest, with COM2 as the doorbell. On a machine without
// the device the call says ENODEV and the channel stays serial-only.

// ivshmem-plain's PCI ids (QEMU docs/specs/ivshmem-spec.rst) and where its
// shared memory is.
const (
	ivshmemVendor = 0x1af4
	ivshmemDevice = 0x1110
	ivshmemBAR    = 2
)

// PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2).
const (
	pciConfAddr = 0xcf8
	pciConfData = 0xcfc
	pciCommand  = 0x04
	pciBAR0     = 0x10
	pciCmdMem   = 1 << 1 // memory space decoding on
)

// shmRegion is the shared memory, found at the first request; size 0:
// none.
type shmRegion struct {
	once       sync.Once
	base, size uint64
	why        string // why there is none, for the log

	mu       sync.Mutex // guards mappedTo; takes only mapMu (doc.go)
	mappedTo *Domain    // the one domain it is mapped into
}

// find looks for the device on bus 0 once. Configuration space is touched
// by no one else after boot.
func (s *shmRegion) find() {
	s.once.Do(func() {
		s.base, s.size, s.why = probeIvshmem(pciConfig{})
	})
}

// mapInto maps [base, end) into d's nested page table at the same
// addresses, unless it is mapped into another domain (EBUSY). Asked again
// it finishes a mapping an earlier call cut short for lack of table pages
// (pages already mapped are ErrMapped). It refuses (ENODEV) where a PC
// domain that read there first has the all-ones page (platform_mmio.go),
// and reports that page for the caller to log once no lock is held.
func (s *shmRegion) mapInto(d *Domain, base, end uint64) (allOnes uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.mappedTo {
	case d: // asked again: it is there
		return 0, nil
	case nil:
	default:
		return 0, errno.EBUSY // one channel, one control domain
	}
	d.ram.mapMu.Lock()
	defer d.ram.mapMu.Unlock()
	for gpa := base; gpa < end; gpa += kernel.PageSize {
		switch err := d.ram.npt.Map4K(gpa, gpa); {
		case errors.Is(err, npt.ErrMapped):
			if hpa, _ := d.ram.npt.Translate(gpa); hpa != gpa {
				return gpa, errno.ENODEV
			}
		case err != nil:
			return 0, errno.ENOMEM
		}
	}
	s.mappedTo = d
	return 0, nil
}

// pciConfig reads and writes configuration space through the ports.
type pciConfig struct{}

func pciAddr(dev, reg uint8) uint32 { return 1<<31 | uint32(dev)<<11 | uint32(reg)&0xfc }

func (pciConfig) read(dev, reg uint8) uint32 {
	kernel.PortOut32(pciConfAddr, pciAddr(dev, reg))
	return kernel.PortIn32(pciConfData)
}

func (pciConfig) write(dev, reg uint8, v uint32) {
	kernel.PortOut32(pciConfAddr, pciAddr(dev, reg))
	kernel.PortOut32(pciConfData, v)
}

// configSpace is PCI configuration space on bus 0 (pciConfig; a fake in tests).
type configSpace interface {
	read(dev, reg uint8) uint32
	write(dev, reg uint8, v uint32)
}

// probeIvshmem finds ivshmem-plain on bus 0 and returns its BAR 2's address
// and size as the firmware assigned it, or why not.
func probeIvshmem(c configSpace) (base, size uint64, why string) {
	for dev := uint8(0); dev < 32; dev++ {
		id := c.read(dev, 0)
		if id&0xffff != ivshmemVendor || id>>16 != ivshmemDevice {
			continue
		}
		reg := uint8(pciBAR0 + 4*ivshmemBAR)
		lo := c.read(dev, reg)
		if lo&1 != 0 || (lo>>1)&3 != 2 {
			return 0, 0, fmt.Sprintf("ivshmem at 00:%02x.0: BAR %d is not a 64-bit memory BAR (%#x)", dev, ivshmemBAR, lo)
		}
		hi := c.read(dev, reg+4)
		// Size it (all ones, read back, restore) with decoding off, as the
		// specification asks.
		cmd := c.read(dev, pciCommand)
		c.write(dev, pciCommand, cmd&^pciCmdMem&0xffff)
		c.write(dev, reg, ^uint32(0))
		c.write(dev, reg+4, ^uint32(0))
		mask := uint64(c.read(dev, reg+4))<<32 | uint64(c.read(dev, reg)&^0xf)
		c.write(dev, reg, lo)
		c.write(dev, reg+4, hi)
		c.write(dev, pciCommand, (cmd|pciCmdMem)&0xffff)
		base, size = uint64(hi)<<32|uint64(lo&^0xf), ^mask+1
		switch {
		case mask == 0 || size&(size-1) != 0:
			return 0, 0, fmt.Sprintf("ivshmem at 00:%02x.0: BAR %d sizes as %#x", dev, ivshmemBAR, mask)
		case base == 0:
			return 0, 0, fmt.Sprintf("ivshmem at 00:%02x.0: the firmware left BAR %d unassigned", dev, ivshmemBAR)
		case base+size > 4<<30:
			return 0, 0, fmt.Sprintf("ivshmem at 00:%02x.0: BAR %d at %#x, above the 4 GiB that guests identity-map", dev, ivshmemBAR, base)
		}
		return base, size, ""
	}
	return 0, 0, "no ivshmem-plain device on PCI bus 0 (QEMU: -device ivshmem-plain)"
}

// sysctlCtlRing is sysctl ctlring: map the shared memory into the caller
// (the control domain: controlCall checked) and say where.
func sysctlCtlRing(v *VCPU, c *abi.Ctl) error {
	h, d := v.dom.hv, v.dom
	h.shm.find()
	if h.shm.size == 0 {
		d.logOnce("ctlring", "host channel ring: %s; the channel stays serial", h.shm.why)
		return errno.ENODEV
	}
	base, end := h.shm.base, h.shm.base+h.shm.size
	if base < d.ram.size {
		d.logOnce("ctlring", "host channel ring at %#x lies in the domain's RAM (%d MiB)", base, d.ram.size>>20)
		return errno.ENODEV
	}
	if name, ok := d.bus.mmioOverlap(base, end); ok {
		d.logOnce("ctlring", "host channel ring at %#x-%#x overlaps %s", base, end-1, name)
		return errno.ENODEV
	}
	ones, err := h.shm.mapInto(d, base, end)
	if ones != 0 {
		d.logOnce("ctlring", "host channel ring at %#x: the domain already reads all ones there", ones)
	}
	if err != nil {
		return err
	}
	abi.CtlRing{Addr: base, Size: h.shm.size}.Encode(c.Union[:])
	return nil
}
