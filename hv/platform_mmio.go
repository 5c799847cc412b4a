package hv

import (
	"sync"

	"grove/hv/pc"
	"grove/kernel"
)

// Unmodelled MMIO as memory. A PC guest's read above its RAM where no
// device lives returns all ones (a master abort). Emulating each such read
// costs a nested page fault, an instruction decode and a VMRUN round trip,
// which under QEMU's TCG flushes its TLB: a guest probing every page below
// 4 GiB (issue 13's bad input, or an OS scanning for option ROMs) took
// minutes. Instead the first access to a 2 MiB region with no device maps
// it read-only onto one shared 2 MiB page of all ones; later reads are
// plain loads and writes still fault and are dropped (unmodelledMMIO). A
// region holding a device, or the local APIC's page, is mapped a 4 KiB
// page at a time, never over the device. So list's unmodelled count
// counts a region's reads once, its writes each time, and the console
// names the first access to each region, within the domain's log bound.

// onesMem is the shared all-ones page: hypervisor memory for its whole
// life, so outside pagesHeld (a domain's count).
var onesMem struct {
	once sync.Once
	hpa  uint64 // 0: none (no kernel pages, as in host tests)
}

// onesPage returns the host address of the 2 MiB all-ones page, or 0.
var onesPage = func() uint64 {
	onesMem.once.Do(func() {
		pa, err := kernel.AllocPages(hugePage/kernel.PageSize, hugePage/kernel.PageSize)
		if err != nil {
			return
		}
		b := hostBytes(pa, hugePage)
		for i := range b {
			b[i] = 0xff
		}
		onesMem.hpa = uint64(pa)
	})
	return onesMem.hpa
}

// mapUnmodelled maps the unclaimed region or page holding gpa onto the
// all-ones page, read-only, and reports whether it did (the faulting
// access can then run again). It does not when gpa is RAM or a device's,
// when there is no all-ones page or table page, or when another vCPU
// mapped it first; the caller then emulates the access.
func (d *Domain) mapUnmodelled(gpa uint64) bool {
	ones := onesPage()
	if ones == 0 || d.ram.npt == nil || gpa < d.ram.size {
		return false
	}
	d.ram.mapMu.Lock()
	defer d.ram.mapMu.Unlock()
	region := gpa &^ (hugePage - 1)
	if region >= d.ram.size && !d.claimsMMIO(region, region+hugePage) {
		if d.ram.npt.MapRO2M(region, ones) == nil {
			return true
		}
	}
	page := gpa &^ (kernel.PageSize - 1)
	if d.claimsMMIO(page, page+kernel.PageSize) {
		return false
	}
	return d.ram.npt.MapRO4K(page, ones) == nil
}

// claimsMMIO reports whether anything is emulated in [base, end): a device
// on the domain's bus or the local APIC's page (each vCPU's, at pc.Base).
// The host channel's memory (ctlring.go) is the control domain's alone and
// checked there.
func (d *Domain) claimsMMIO(base, end uint64) bool {
	if _, ok := d.bus.mmioOverlap(base, end); ok {
		return true
	}
	return base <= pc.Base && pc.Base < end
}
