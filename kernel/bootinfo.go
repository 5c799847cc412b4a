package kernel

import "encoding/binary"

// Boot protocols Grove accepts, told apart by the magic the trampoline passes.
const (
	multibootMagic = 0x2badb002 // Multiboot 0.6.96, 3.2 (EAX on entry)
	pvhMagic       = 0x336ec578 // Xen start_info.h, XEN_HVM_START_MAGIC_VALUE
)

// Memory types, E820 numbering (shared by multiboot and PVH memory maps).
const (
	memUsable   = 1
	memReserved = 2
	memACPI     = 3
	memNVS      = 4
	memBad      = 5
)

const (
	maxMemRegions = 128 // see addRegion
	maxModules    = 16
	maxCmdline    = 1024
)

// MemRegion is one entry of the firmware memory map.
type MemRegion struct {
	Base, Len uint64
	Type      uint32
}

// Module is a blob the boot loader loaded (multiboot module / PVH modlist).
type Module struct {
	Base, Len uint64
	cmdline   [maxModCmdline]byte
	cmdLen    int
}

// Cmdline is the module's string from the loader (multiboot: what follows
// the file name on QEMU's -initrd or GRUB's module line).
func (m *Module) Cmdline() string { return string(m.cmdline[:m.cmdLen]) }

const maxModCmdline = 256

// BootInfo is what Grove keeps of the boot loader's data. It is copied into
// this fixed-size value first thing, so the loader's pages can be reused.
type BootInfo struct {
	Protocol   string // "multiboot", "multiboot2" or "pvh"
	cmdline    [maxCmdline]byte
	cmdlineLen int
	// Mem is the memory map, neighbours of one type merged; once it is
	// full, further regions are counted in MemDropped and never used.
	Mem        [maxMemRegions]MemRegion
	NMem       int
	MemDropped int
	Mods       [maxModules]Module
	NMods      int
	// RSDP is the physical address of the ACPI RSDP (ACPI 6.5 §5.2.5), 0
	// if the loader did not say: PVH's rsdp_paddr, or for multiboot2 the
	// address of rsdp below, BootInfo's copy of the loader's copy.
	RSDP    uint64
	rsdp    [rsdpV2Len]byte
	rsdpLen int
}

// Cmdline returns the kernel command line.
func (b *BootInfo) Cmdline() string { return string(b.cmdline[:b.cmdlineLen]) }

// physReader reads physical memory. Kernel code passes identityMem; tests
// pass a fake, so the parsers run (and are fuzzed) on the host.
type physReader interface {
	read(addr, n uint64) []byte // nil if out of range
}

type bootError string

// Kernel context.
func (e bootError) Error() string { return string(e) }

// parseBootInfo decodes the loader's structures at info into out.
// Boot path.
func parseBootInfo(magic uint64, info uint64, m physReader, out *BootInfo) error {
	switch uint32(magic) {
	case multibootMagic:
		out.Protocol = "multiboot"
		return parseMultiboot(info, m, out)
	case pvhMagic:
		out.Protocol = "pvh"
		return parsePVH(info, m, out)
	case multiboot2Magic:
		out.Protocol = "multiboot2"
		return parseMultiboot2(info, m, out)
	}
	return bootError("unknown boot protocol magic")
}

// parseMultiboot reads a Multiboot 0.6.96 information structure (section 3.3):
// flags at 0; mods_count/mods_addr at 20/24 (flag bit 3); cmdline at 16 (bit 2);
// mmap_length/mmap_addr at 44/48 (bit 6), entries {size, base, len, type}
// where size does not count itself.
// Boot path.
func parseMultiboot(info uint64, m physReader, out *BootInfo) error {
	b := m.read(info, 52)
	if b == nil {
		return bootError("multiboot info out of range")
	}
	le := binary.LittleEndian
	flags := le.Uint32(b[0:])
	if flags&(1<<2) != 0 {
		n := readCString(m, uint64(le.Uint32(b[16:])), out.cmdline[:])
		out.cmdlineLen = dropImagePath(out.cmdline[:], n)
	}
	if flags&(1<<3) != 0 {
		n, addr := le.Uint32(b[20:]), uint64(le.Uint32(b[24:]))
		for i := uint32(0); i < n && out.NMods < maxModules; i++ {
			e := m.read(addr+uint64(i)*16, 16)
			if e == nil {
				return bootError("multiboot module list out of range")
			}
			start, end := le.Uint32(e[0:]), le.Uint32(e[4:])
			if end < start {
				return bootError("multiboot module ends before it starts")
			}
			out.Mods[out.NMods] = Module{Base: uint64(start), Len: uint64(end - start)}
			readModString(m, uint64(le.Uint32(e[8:])), &out.Mods[out.NMods])
			out.NMods++
		}
	}
	if flags&(1<<6) == 0 {
		return bootError("multiboot loader gave no memory map")
	}
	length, addr := uint64(le.Uint32(b[44:])), uint64(le.Uint32(b[48:]))
	for off := uint64(0); off+24 <= length; {
		e := m.read(addr+off, 24)
		if e == nil {
			return bootError("multiboot memory map out of range")
		}
		size := uint64(le.Uint32(e[0:]))
		if size < 20 {
			return bootError("multiboot memory map entry too small")
		}
		addRegion(out, le.Uint64(e[4:]), le.Uint64(e[12:]), le.Uint32(e[20:]))
		off += size + 4
	}
	return nil
}

// parsePVH reads struct hvm_start_info (xen/include/public/arch-x86/hvm/
// start_info.h): magic, version, flags, nr_modules, modlist_paddr(16),
// cmdline_paddr(24), rsdp_paddr(32), memmap_paddr(40), memmap_entries(48).
// Modules are {paddr, size, cmdline_paddr, reserved}; memmap entries
// {addr, size, type, reserved}.
// Boot path.
func parsePVH(info uint64, m physReader, out *BootInfo) error {
	b := m.read(info, 56)
	if b == nil {
		return bootError("PVH start info out of range")
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != pvhMagic {
		return bootError("PVH start info has a bad magic")
	}
	out.RSDP = le.Uint64(b[32:])
	if p := le.Uint64(b[24:]); p != 0 {
		out.cmdlineLen = readCString(m, p, out.cmdline[:])
	}
	nmods, modlist := le.Uint32(b[12:]), le.Uint64(b[16:])
	for i := uint32(0); i < nmods && out.NMods < maxModules; i++ {
		e := m.read(modlist+uint64(i)*32, 32)
		if e == nil {
			return bootError("PVH module list out of range")
		}
		out.Mods[out.NMods] = Module{Base: le.Uint64(e[0:]), Len: le.Uint64(e[8:])}
		readModString(m, le.Uint64(e[16:]), &out.Mods[out.NMods])
		out.NMods++
	}
	if le.Uint32(b[4:]) < 1 || le.Uint64(b[40:]) == 0 {
		return bootError("PVH start info (version < 1) has no memory map")
	}
	n, addr := le.Uint32(b[48:]), le.Uint64(b[40:])
	for i := uint32(0); i < n; i++ {
		e := m.read(addr+uint64(i)*24, 24)
		if e == nil {
			return bootError("PVH memory map out of range")
		}
		addRegion(out, le.Uint64(e[0:]), le.Uint64(e[8:]), le.Uint32(e[16:]))
	}
	return nil
}

// addRegion appends a region, or grows the last one when this one
// continues it with the same type: OVMF's EFI map lists many neighbours.
// Boot path.
func addRegion(out *BootInfo, base, length uint64, typ uint32) {
	if length == 0 || base+length < base {
		return
	}
	if n := out.NMem; n > 0 {
		if last := &out.Mem[n-1]; last.Type == typ && last.Base+last.Len == base {
			last.Len += length
			return
		}
	}
	if out.NMem == maxMemRegions {
		out.MemDropped++
		return
	}
	out.Mem[out.NMem] = MemRegion{base, length, typ}
	out.NMem++
}

// readCString copies the NUL-terminated string at addr into dst (at most
// len(dst) bytes) and returns its length.
// Boot path.
func readCString(m physReader, addr uint64, dst []byte) int {
	n := 0
	for n < len(dst) {
		c := m.read(addr+uint64(n), 1)
		if c == nil || c[0] == 0 {
			break
		}
		dst[n] = c[0]
		n++
	}
	return n
}

// dropImagePath removes from buf[:n] the image path a loader may put before
// the arguments (QEMU does, GRUB does not): a first word with a '/' or '.'
// and no '='. It returns the new length.
// Boot path.
func dropImagePath(buf []byte, n int) int {
	c := buf[:n]
	i, path := 0, false
	for i < len(c) && c[i] != ' ' {
		switch c[i] {
		case '=':
			return n
		case '/', '.':
			path = true
		}
		i++
	}
	if !path {
		return n
	}
	for i < len(c) && c[i] == ' ' {
		i++
	}
	return copy(buf, c[i:])
}

// readModString reads a module's string the way the command line is read.
// Boot path.
func readModString(m physReader, addr uint64, mod *Module) {
	if addr != 0 {
		mod.cmdLen = dropImagePath(mod.cmdline[:], readCString(m, addr, mod.cmdline[:]))
	}
}

// UsableBytes is the total of usable RAM in the map.
// Boot path.
func (b *BootInfo) UsableBytes() uint64 {
	var n uint64
	for _, r := range b.Mem[:b.NMem] {
		if r.Type == memUsable {
			n += r.Len
		}
	}
	return n
}
