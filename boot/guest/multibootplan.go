package guest

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Guest-physical layout of a multiboot domain at start of day:
//
//	[0, 0x9f000)         RAM
//	  0x6000             multiboot_info, EBX points here; module list at
//	                     0x6100, memory map at 0x6200, the boot loader's
//	                     name at 0x6300, command line at 0x6800 (as PVH)
//	[0x9f000, 1 MiB)     reserved
//	  0xE0000            ACPI tables (acpi.go), as for Linux
//	[1 MiB, memory)      RAM
//	anywhere else        the image, at its own addresses (kvm-unit-tests'
//	                     realmode test loads at 32 KiB), then modules,
//	                     page-aligned above it (or above 1 MiB)
//
// The kernel starts as §3.2 of the specification says: 32-bit protected
// mode, paging off, flat segments, interrupts off, EAX = 0x2BADB002, EBX =
// the information structure, the other registers zero.
const (
	mbInfoGPA   = StartInfoGPA
	mbModsGPA   = 0x6100
	mbMmapGPA   = 0x6200
	mbLoaderGPA = 0x6300

	mbLoaderName = "Grove"
)

// struct multiboot_info (§3.3): the fields Grove fills in and their flags.
const (
	miFlags          = 0
	miMemLower       = 4
	miMemUpper       = 8
	miCmdline        = 16
	miModsCount      = 20
	miModsAddr       = 24
	miMmapLength     = 44
	miMmapAddr       = 48
	miBootLoaderName = 64

	mifMemory     = 1 << 0
	mifCmdline    = 1 << 2
	mifMods       = 1 << 3
	mifMemMap     = 1 << 6
	mifLoaderName = 1 << 9

	mbModEntrySize  = 16 // mod_start, mod_end, string, reserved
	mbMmapEntrySize = 24 // size (20, not counting itself), base_addr, length, type
)

// MultibootConfig is what a multiboot domain is built with besides its
// kernel.
type MultibootConfig struct {
	MemBytes uint64
	Cmdline  string // the arguments: the kernel sees Argv0 first
	// Argv0 is the first word of the kernel's command line, as GRUB and
	// QEMU's -kernel put the kernel's file name there; empty means the
	// image's name.
	Argv0   string
	Modules [][]byte // boot modules, in order
	VCPUs   int      // local APICs in the MADT
}

// NewMultibootPlan lays out img, its command line, modules, boot
// information and ACPI tables in guest RAM. The vCPU starts at Entry with
// EAX = MultibootBootMagic and EBX = StartInfo (StartMultiboot).
func NewMultibootPlan(img *MultibootImage, cfg MultibootConfig) (*Plan, error) {
	p, err := multibootPlan(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", img.Name, err)
	}
	return p, nil
}

func multibootPlan(img *MultibootImage, cfg MultibootConfig) (*Plan, error) {
	argv0 := cfg.Argv0
	if argv0 == "" {
		argv0 = img.Name
	}
	cmdline := strings.TrimSpace(argv0 + " " + cfg.Cmdline)
	if err := checkMultibootArgs(img, cfg, cmdline); err != nil {
		return nil, err
	}
	p := &Plan{Entry: img.Entry, StartInfo: mbInfoGPA, StartReg: StartMultiboot, MemBytes: cfg.MemBytes}
	if err := p.placeMultibootModules(img, cfg); err != nil {
		return nil, err
	}
	p.Memmap = []Region{
		{0, lowRAMEnd, MemRAM},
		{lowRAMEnd, HighRAM - lowRAMEnd, MemReserved},
		{HighRAM, cfg.MemBytes - HighRAM, MemRAM},
	}
	tables, _, err := ACPITables(max(cfg.VCPUs, 1))
	if err != nil {
		return nil, err
	}
	p.Writes = []Write{
		{GPA: mbInfoGPA, Data: p.multibootInfo(cmdline)},
		{GPA: ACPIBase, Data: tables},
	}
	for _, s := range img.Segments {
		p.Writes = append(p.Writes, Write{GPA: s.Paddr, Data: s.FileData, Zero: s.Memsz - uint64(len(s.FileData))})
	}
	for i, m := range p.Modules {
		p.Writes = append(p.Writes, Write{GPA: m.GPA, Data: cfg.Modules[i]})
	}
	slices.SortFunc(p.Writes, func(a, b Write) int { return cmp.Compare(a.GPA, b.GPA) })
	return p, nil
}

// checkMultibootArgs refuses a command line or module list that does not
// fit, and an image that would land outside RAM or on the boot data or the
// ACPI tables.
func checkMultibootArgs(img *MultibootImage, cfg MultibootConfig, cmdline string) error {
	if len(cmdline) > MaxCmdline {
		return fmt.Errorf("command line with the kernel's name is %d bytes, at most %d", len(cmdline), MaxCmdline)
	}
	if strings.IndexByte(cmdline, 0) >= 0 {
		return fmt.Errorf("command line has a NUL byte, which would end it early")
	}
	if len(cfg.Modules) > MaxModules {
		return fmt.Errorf("%d modules, at most %d", len(cfg.Modules), MaxModules)
	}
	if cfg.MemBytes < HighRAM || cfg.MemBytes > MaxLinuxMemBytes {
		return fmt.Errorf("%d MiB of guest RAM: a multiboot domain has 1 to %d MiB (above that RAM would cover the APICs at %#x)",
			cfg.MemBytes>>20, MaxLinuxMemBytes>>20, IOAPICBase)
	}
	for _, s := range img.Segments {
		if err := checkMultibootSegment(s, cfg.MemBytes); err != nil {
			return err
		}
	}
	return nil
}

func checkMultibootSegment(s Segment, mem uint64) error {
	keep := []struct {
		lo, hi uint64
		what   string
	}{
		{mbInfoGPA, bootDataEnd, "the multiboot information"},
		{ACPIBase, ACPIBase + ACPIAreaSize, "the ACPI tables"},
	}
	if s.End() > mem {
		return fmt.Errorf("segment [%#x, %#x) is outside the domain's %d MiB of RAM%s", s.Paddr, s.End(), mem>>20, fractionMiB(mem))
	}
	for _, k := range keep {
		if s.Paddr < k.hi && k.lo < s.End() {
			return fmt.Errorf("segment [%#x, %#x) overlaps %s at [%#x, %#x)", s.Paddr, s.End(), k.what, k.lo, k.hi)
		}
	}
	return nil
}

// placeMultibootModules puts modules page-aligned above the image (and
// above 1 MiB, out of the boot data's way) and checks that they fit.
func (p *Plan) placeMultibootModules(img *MultibootImage, cfg MultibootConfig) error {
	next, fits := max(img.End(), HighRAM), true
	for _, m := range cfg.Modules {
		gpa := addSat(next, pageSize-1) &^ (pageSize - 1)
		p.Modules = append(p.Modules, Module{GPA: gpa, Size: uint64(len(m))})
		next = addSat(gpa, uint64(len(m)))
		fits = fits && next <= cfg.MemBytes
	}
	if !fits {
		return fmt.Errorf("kernel and modules need at least %d MiB of guest RAM, has %d MiB%s",
			ceilMiB(next), cfg.MemBytes>>20, fractionMiB(cfg.MemBytes))
	}
	return nil
}

// multibootInfo is the boot data page at mbInfoGPA: multiboot_info and
// what it points to, at the offsets above.
func (p *Plan) multibootInfo(cmdline string) []byte {
	le := binary.LittleEndian
	b := make([]byte, bootDataEnd-mbInfoGPA)
	at := func(gpa uint64) []byte { return b[gpa-mbInfoGPA:] }
	info := at(mbInfoGPA)
	le.PutUint32(info[miFlags:], mifMemory|mifCmdline|mifMods|mifMemMap|mifLoaderName)
	le.PutUint32(info[miMemLower:], lowRAMEnd>>10)
	le.PutUint32(info[miMemUpper:], uint32((p.MemBytes-HighRAM)>>10))
	le.PutUint32(info[miCmdline:], cmdlineGPA)
	copy(at(cmdlineGPA), cmdline) // the NUL is already there
	le.PutUint32(info[miModsCount:], uint32(len(p.Modules)))
	le.PutUint32(info[miModsAddr:], mbModsGPA)
	for i, m := range p.Modules {
		e := at(mbModsGPA + uint64(i*mbModEntrySize))
		le.PutUint32(e[0:], uint32(m.GPA))
		le.PutUint32(e[4:], uint32(m.GPA+m.Size))
		le.PutUint32(e[8:], mbLoaderGPA+uint32(len(mbLoaderName))) // "": the NUL after the name
	}
	le.PutUint32(info[miMmapLength:], uint32(len(p.Memmap)*mbMmapEntrySize))
	le.PutUint32(info[miMmapAddr:], mbMmapGPA)
	for i, r := range p.Memmap {
		e := at(mbMmapGPA + uint64(i*mbMmapEntrySize))
		le.PutUint32(e[0:], mbMmapEntrySize-4)
		le.PutUint64(e[4:], r.Base)
		le.PutUint64(e[12:], r.Size)
		le.PutUint32(e[20:], r.Type)
	}
	le.PutUint32(info[miBootLoaderName:], mbLoaderGPA)
	copy(at(mbLoaderGPA), mbLoaderName)
	return b
}
