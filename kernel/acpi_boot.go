package kernel

import "grove/acpi"

// CPU discovery: the firmware's MADT (package acpi) lists the local APICs.
// It runs on the boot path (no allocation: acpi's parser allocates nothing).
// A missing or broken table is reported by name and Grove runs on the boot
// CPU only.

// physMem is the kernel's view of physical memory for the ACPI parser: the
// identity map, minus page 0 (never mapped: nil dereferences must fault).
type physMem struct{}

// Boot path.
func (physMem) Bytes(pa, n uint64) ([]byte, bool) {
	end := pa + n
	if pa < pageSize || end < pa || end > uint64(kas.identEnd) {
		return nil, false
	}
	b := bytesAt(uintptr(pa), uintptr(n))
	return b[:n:n], true
}

// madt is the parsed table, kept for the IOAPIC and interrupt overrides.
var madt acpi.Topology

// acpiCPUs lists the local APIC ids of the CPUs the firmware enables.
// Boot path.
func acpiCPUs() (ids [maxCPUs]uint32, n int) {
	rsdp, err := acpi.FindRSDP(physMem{}, Boot.RSDP)
	if err == nil {
		err = acpi.ParseMADTInto(physMem{}, rsdp, &madt)
	}
	if err != nil {
		kprint(err.Error())
		kprint(", running on the boot CPU only\n")
		return ids, 0
	}
	for _, c := range madt.CPUs[:madt.NumCPUs] {
		if c.Enabled() && n < maxCPUs {
			ids[n] = c.ID
			n++
		}
	}
	if extra := madt.NumCPUs - n + madt.DroppedCPUs; n == maxCPUs && extra > 0 {
		kprint("cpu: the MADT lists more CPUs than Grove supports (8); the rest stay off\n")
	}
	return ids, n
}
