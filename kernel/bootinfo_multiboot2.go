package kernel

import "encoding/binary"

// Multiboot2 Specification version 2.0: the magic in EAX on entry (§3.3)
// and the boot information tag types Grove reads (§3.6).
const (
	multiboot2Magic = 0x36d76289
	mb2TagEnd       = 0  // §3.6.1
	mb2TagCmdline   = 1  // §3.6.5
	mb2TagModule    = 3  // §3.6.6
	mb2TagMmap      = 6  // §3.6.8
	mb2TagACPIOld   = 14 // §3.6.16: copy of an ACPI 1.0 RSDP
	mb2TagACPINew   = 15 // §3.6.17: copy of an ACPI 2.0+ RSDP
	mb2TagEFIMmap   = 17 // §3.6.19: the firmware's EFI memory map
)

// RSDP sizes, ACPI 6.5 §5.2.5.3: revision 0 ends after RsdtAddress, 2+
// adds Length, XsdtAddress, an extended checksum and 3 reserved bytes.
const (
	rsdpV1Len = 20
	rsdpV2Len = 36
)

// parseMultiboot2 reads the boot information structure (§3.6.1): u32
// total_size, u32 reserved, then tags {u32 type, u32 size, ...} each
// starting 8-byte aligned, up to an end tag (type 0, size 8). A tag that
// is smaller than its header or runs past total_size ends the walk with an
// error, so a broken structure can neither loop nor be read past its end.
// Boot path.
func parseMultiboot2(info uint64, m physReader, out *BootInfo) error {
	h := m.read(info, 8)
	if h == nil {
		return bootError("multiboot2 info out of range")
	}
	total := uint64(binary.LittleEndian.Uint32(h))
	var efiMmap, efiMmapSize uint64
	sawMmap := false
	for off := uint64(8); ; off += 7 {
		off &^= 7
		if off+8 > total {
			return bootError("multiboot2 info ends without an end tag")
		}
		t := m.read(info+off, 8)
		if t == nil {
			return bootError("multiboot2 tag out of range")
		}
		typ, size := binary.LittleEndian.Uint32(t), uint64(binary.LittleEndian.Uint32(t[4:]))
		if size < 8 {
			return bootError("multiboot2 tag smaller than its header")
		}
		if size > total-off {
			return bootError("multiboot2 tag runs past the info's total size")
		}
		switch typ {
		case mb2TagEnd:
			return mb2Finish(m, out, sawMmap, efiMmap, efiMmapSize)
		case mb2TagMmap:
			sawMmap = true
		case mb2TagEFIMmap:
			efiMmap, efiMmapSize = info+off, size
			off += size
			continue
		}
		if err := mb2Tag(typ, info+off, size, m, out); err != nil {
			return err
		}
		off += size
	}
}

// mb2Finish falls back to the EFI memory map when the loader gave no
// type-6 map (GRUB gives both under UEFI; the type-6 one is already merged
// and in E820 terms).
// Boot path.
func mb2Finish(m physReader, out *BootInfo, sawMmap bool, efi, efiSize uint64) error {
	switch {
	case sawMmap:
		return nil
	case efi != 0:
		return mb2EFIMmap(efi, efiSize, m, out)
	}
	return bootError("multiboot2 loader gave no memory map")
}

// mb2Tag decodes one tag of size bytes (header included) at addr.
// Boot path.
func mb2Tag(typ uint32, addr, size uint64, m physReader, out *BootInfo) error {
	switch typ {
	case mb2TagCmdline:
		n := readCString(m, addr+8, out.cmdline[:min(maxCmdline, size-8)])
		out.cmdlineLen = dropImagePath(out.cmdline[:], n)
	case mb2TagModule:
		return mb2Module(addr, size, m, out)
	case mb2TagMmap:
		return mb2Mmap(addr, size, m, out)
	case mb2TagACPIOld:
		if out.rsdpLen < rsdpV2Len { // a new RSDP, in either order, wins
			mb2RSDP(addr, size, rsdpV1Len, m, out)
		}
	case mb2TagACPINew:
		mb2RSDP(addr, size, rsdpV2Len, m, out)
	}
	return nil
}

// mb2Module reads {type, size, mod_start, mod_end, string} (§3.6.6).
// Boot path.
func mb2Module(addr, size uint64, m physReader, out *BootInfo) error {
	e := m.read(addr, 16)
	if size < 16 || e == nil {
		return bootError("multiboot2 module tag too small")
	}
	start, end := binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:])
	if end < start {
		return bootError("multiboot2 module ends before it starts")
	}
	if out.NMods == maxModules {
		return nil
	}
	mod := &out.Mods[out.NMods]
	*mod = Module{Base: uint64(start), Len: uint64(end - start)}
	n := readCString(m, addr+16, mod.cmdline[:min(maxModCmdline, size-16)])
	mod.cmdLen = dropImagePath(mod.cmdline[:], n)
	out.NMods++
	return nil
}

// mb2Mmap reads {type, size, entry_size, entry_version, entries} with
// entries {u64 base_addr, u64 length, u32 type, u32 reserved} (§3.6.8);
// entry_size may grow in later versions, so step by it.
// Boot path.
func mb2Mmap(addr, size uint64, m physReader, out *BootInfo) error {
	h := m.read(addr, 16)
	if size < 16 || h == nil {
		return bootError("multiboot2 memory map tag too small")
	}
	esize := uint64(binary.LittleEndian.Uint32(h[8:]))
	if esize < 24 {
		return bootError("multiboot2 memory map entry too small")
	}
	for off := uint64(16); off+esize <= size; off += esize {
		e := m.read(addr+off, 24)
		if e == nil {
			return bootError("multiboot2 memory map out of range")
		}
		addRegion(out, binary.LittleEndian.Uint64(e), binary.LittleEndian.Uint64(e[8:]), binary.LittleEndian.Uint32(e[16:]))
	}
	return nil
}

// mb2RSDP copies the loader's RSDP copy into out and points out.RSDP at
// it. The copy in the info structure lives in memory the map calls usable
// and the page allocator may hand out, so BootInfo keeps its own: Boot is
// in the identity-mapped kernel image, where the physical address of a
// variable is its address.
// Boot path.
func mb2RSDP(addr, size, n uint64, m physReader, out *BootInfo) {
	if size < 8+n {
		return
	}
	if b := m.read(addr+8, n); b != nil {
		out.rsdpLen = copy(out.rsdp[:], b)
		out.RSDP = uint64(uintptrOf(&out.rsdp))
	}
}

// EFI_MEMORY_TYPE values, UEFI 2.10 §7.2.3 (EFI_BOOT_SERVICES.AllocatePages).
const (
	efiLoaderCode         = 1
	efiBootServicesData   = 4
	efiConventionalMemory = 7
	efiUnusableMemory     = 8
	efiACPIReclaimMemory  = 9
	efiACPIMemoryNVS      = 10
	efiPageSize           = 4096
)

// mb2EFIMmap reads {type, size, descriptor_size, descriptor_version,
// EFI_MEMORY_DESCRIPTORs} (§3.6.19). A descriptor is {u32 Type, u32 pad,
// u64 PhysicalStart, u64 VirtualStart, u64 NumberOfPages, u64 Attribute}
// (UEFI 2.10 §7.2.3, GetMemoryMap); descriptor_size may exceed its 40 bytes.
// Boot path.
func mb2EFIMmap(addr, size uint64, m physReader, out *BootInfo) error {
	h := m.read(addr, 16)
	if size < 16 || h == nil {
		return bootError("multiboot2 EFI memory map tag too small")
	}
	dsize := uint64(binary.LittleEndian.Uint32(h[8:]))
	if dsize < 40 {
		return bootError("multiboot2 EFI memory descriptor too small")
	}
	for off := uint64(16); off+dsize <= size; off += dsize {
		d := m.read(addr+off, 32)
		if d == nil {
			return bootError("multiboot2 EFI memory map out of range")
		}
		pages := binary.LittleEndian.Uint64(d[24:])
		if pages >= 1<<52 { // length would not fit in 64 bits
			continue
		}
		addRegion(out, binary.LittleEndian.Uint64(d[8:]), pages*efiPageSize, efiToE820(binary.LittleEndian.Uint32(d)))
	}
	return nil
}

// efiToE820 maps an EFI memory type to the E820 type Grove keeps, the way
// GRUB and Linux do once boot services have been exited: loader and boot
// services memory is free, runtime services and MMIO stay reserved.
// Boot path.
func efiToE820(t uint32) uint32 {
	switch {
	case t >= efiLoaderCode && t <= efiBootServicesData, t == efiConventionalMemory:
		return memUsable
	case t == efiUnusableMemory:
		return memBad
	case t == efiACPIReclaimMemory:
		return memACPI
	case t == efiACPIMemoryNVS:
		return memNVS
	}
	return memReserved
}
