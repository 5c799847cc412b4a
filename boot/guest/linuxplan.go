package guest

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Guest-physical layout of a Linux domain at start of day (docs/linux.md):
//
//	[0, 0x9f000)         RAM
//	  0x7000             boot_params (the zero page), ESI points here
//	  0x8000             command line, NUL-terminated
//	[0x9f000, 1 MiB)     reserved
//	  0xE0000            ACPI tables (acpi.go), RSDP included
//	[1 MiB, memory)      RAM
//	  1 MiB              the protected-mode kernel, entered at its start
//	  pref_address       where it decompresses to, init_size bytes (16 MiB
//	                     for Debian's kernel; the loader only keeps it free)
//	  top of RAM         the initrd, page-aligned, below initrd_addr_max
const (
	BootParamsGPA   = 0x7000
	linuxCmdlineGPA = 0x8000

	// MaxLinuxMemBytes bounds a Linux domain's RAM: guest RAM is one
	// block from 0, and above this it would cover the I/O APIC and local
	// APIC pages, which must trap to their models.
	MaxLinuxMemBytes = 3 << 30
)

// Zero page fields Grove writes (zero-page.rst, boot.rst).
const (
	zeroPageSize      = 4096
	zpACPIRSDPAddr    = 0x070
	zpExtRamdiskImage = 0x0c0
	zpExtRamdiskSize  = 0x0c4
	zpExtCmdLinePtr   = 0x0c8
	zpE820Entries     = 0x1e8
	zpTypeOfLoader    = 0x210
	zpLoadflags       = 0x211
	zpCode32Start     = 0x214
	zpRamdiskImage    = 0x218
	zpRamdiskSize     = 0x21c
	zpHeapEndPtr      = 0x224
	zpCmdLinePtr      = 0x228
	zpHardwareSubarch = 0x23c
	zpE820Table       = 0x2d0
	e820EntrySize     = 20

	loaderUndefined = 0xff   // type_of_loader: no assigned id
	heapEndPtr      = 0xde00 // boot.rst's example: heap end 0xe000 - 0x200
	protoACPIRSDP   = 0x020e // acpi_rsdp_addr is read from 2.14
)

// LinuxConfig is what a Linux domain is built with besides its kernel.
type LinuxConfig struct {
	MemBytes uint64
	Cmdline  string
	Initrd   []byte // nil or empty: none
	VCPUs    int    // local APICs in the MADT
}

// NewLinuxPlan lays out img, its command line, initrd and ACPI tables in
// guest RAM. The vCPU starts at Entry with ESI = StartInfo (StartESI).
func NewLinuxPlan(img *LinuxImage, cfg LinuxConfig) (*Plan, error) {
	p, err := linuxPlan(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", img.Name, err)
	}
	return p, nil
}

func linuxPlan(img *LinuxImage, cfg LinuxConfig) (*Plan, error) {
	if err := checkLinuxArgs(img, cfg); err != nil {
		return nil, err
	}
	p := &Plan{Entry: linuxLoadAddr, StartInfo: BootParamsGPA, StartReg: StartESI, MemBytes: cfg.MemBytes}
	if err := p.placeInitrd(img, cfg); err != nil {
		return nil, err
	}
	p.Memmap = []Region{
		{0, lowRAMEnd, MemRAM},
		{lowRAMEnd, HighRAM - lowRAMEnd, MemReserved},
		{HighRAM, cfg.MemBytes - HighRAM, MemRAM},
	}
	tables, acpiLay, err := ACPITables(max(cfg.VCPUs, 1))
	if err != nil {
		return nil, err
	}
	p.Writes = []Write{
		{GPA: BootParamsGPA, Data: p.zeroPage(img, acpiLay.RSDP)},
		{GPA: linuxCmdlineGPA, Data: append([]byte(cfg.Cmdline), 0)},
		{GPA: ACPIBase, Data: tables},
		{GPA: linuxLoadAddr, Data: img.Kernel},
	}
	if len(p.Modules) > 0 {
		p.Writes = append(p.Writes, Write{GPA: p.Modules[0].GPA, Data: cfg.Initrd})
	}
	return p, nil
}

func checkLinuxArgs(img *LinuxImage, cfg LinuxConfig) error {
	if len(cfg.Cmdline) > MaxCmdline {
		return fmt.Errorf("command line is %d bytes, at most %d", len(cfg.Cmdline), MaxCmdline)
	}
	if n := img.Header.CmdLineSize; uint64(len(cfg.Cmdline)) > uint64(n) {
		return fmt.Errorf("command line is %d bytes, the kernel takes at most %d (cmdline_size)", len(cfg.Cmdline), n)
	}
	if strings.IndexByte(cfg.Cmdline, 0) >= 0 {
		return fmt.Errorf("command line has a NUL byte, which would end it early")
	}
	if cfg.MemBytes > MaxLinuxMemBytes {
		return fmt.Errorf("%d MiB of guest RAM: a Linux domain has at most %d MiB (above that RAM would cover the APICs at %#x)",
			cfg.MemBytes>>20, MaxLinuxMemBytes>>20, IOAPICBase)
	}
	return nil
}

// placeInitrd checks that the kernel fits with room to decompress, and
// puts the initrd as high as RAM and initrd_addr_max allow (as GRUB does),
// out of the decompressor's way.
func (p *Plan) placeInitrd(img *LinuxImage, cfg LinuxConfig) error {
	h := &img.Header
	kernelEnd := max(linuxLoadAddr+uint64(len(img.Kernel)), runStart(img)+uint64(h.InitSize))
	if kernelEnd > cfg.MemBytes {
		return fmt.Errorf("kernel needs at least %d MiB of guest RAM (it decompresses to [%#x, +%#x), init_size), has %d MiB%s",
			ceilMiB(kernelEnd), runStart(img), h.InitSize, cfg.MemBytes>>20, fractionMiB(cfg.MemBytes))
	}
	size := uint64(len(cfg.Initrd))
	if size == 0 {
		return nil
	}
	lo := roundUp(kernelEnd, pageSize)
	limit := uint64(h.InitrdAddrMax) + 1 // initrd_addr_max is the last byte it may occupy
	if limit < lo || limit-lo < size {
		return fmt.Errorf("initrd of %d MiB does not fit between the kernel's end %#x and initrd_addr_max %#x",
			ceilMiB(size), lo, h.InitrdAddrMax)
	}
	top := min(cfg.MemBytes, limit)
	if top < lo || top-lo < size {
		return fmt.Errorf("kernel and a %d MiB initrd need at least %d MiB of guest RAM, has %d MiB%s",
			ceilMiB(size), ceilMiB(lo+roundUp(size, pageSize)), cfg.MemBytes>>20, fractionMiB(cfg.MemBytes))
	}
	p.Modules = []Module{{GPA: (top - size) &^ (pageSize - 1), Size: size}}
	return nil
}

// runStart is where the kernel decompresses itself (arch/x86/boot/
// compressed/head_64.S): its load address rounded up to kernel_alignment
// when relocatable, but never below pref_address (LOAD_PHYSICAL_ADDR).
func runStart(img *LinuxImage) uint64 {
	h := &img.Header
	start := h.PrefAddress
	if a := uint64(h.Kernelalignment); h.RelocatableKernel != 0 && a != 0 {
		if up := (linuxLoadAddr + a - 1) / a * a; up > start {
			start = up
		}
	}
	return start
}

// zeroPage builds boot_params: the image's setup header at 0x1f1, then
// what a boot loader fills in (boot.rst, "Details of header fields";
// zero-page.rst).
func (p *Plan) zeroPage(img *LinuxImage, rsdp uint64) []byte {
	le := binary.LittleEndian
	zp := make([]byte, zeroPageSize)
	copy(zp[hdrStart:], img.Setup)
	zp[zpTypeOfLoader] = loaderUndefined
	zp[zpLoadflags] |= canUseHeap
	le.PutUint16(zp[zpHeapEndPtr:], heapEndPtr)
	le.PutUint32(zp[zpCode32Start:], linuxLoadAddr)
	le.PutUint32(zp[zpCmdLinePtr:], linuxCmdlineGPA)
	le.PutUint32(zp[zpExtCmdLinePtr:], 0)
	if len(p.Modules) > 0 {
		m := p.Modules[0]
		le.PutUint32(zp[zpRamdiskImage:], uint32(m.GPA))
		le.PutUint32(zp[zpRamdiskSize:], uint32(m.Size))
		le.PutUint32(zp[zpExtRamdiskImage:], uint32(m.GPA>>32))
		le.PutUint32(zp[zpExtRamdiskSize:], uint32(m.Size>>32))
	}
	le.PutUint32(zp[zpHardwareSubarch:], 0) // X86_SUBARCH_PC
	if img.Header.Protocolversion >= protoACPIRSDP {
		le.PutUint64(zp[zpACPIRSDPAddr:], rsdp)
	}
	zp[zpE820Entries] = byte(len(p.Memmap))
	for i, r := range p.Memmap {
		e := zp[zpE820Table+i*e820EntrySize:]
		le.PutUint64(e[0:], r.Base)
		le.PutUint64(e[8:], r.Size)
		le.PutUint32(e[16:], r.Type)
	}
	return zp
}
