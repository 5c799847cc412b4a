package guest

import "grove/x86/paging"

// Guest-physical layout of a PVH domain at start of day. Every address the
// loader chooses is here; the rest comes from the image's own segments.
//
//	[0, 0x6000)         free low RAM (real-mode IVT/BDA area; unused by PVH)
//	[0x6000, 0x6038)    struct hvm_start_info, EBX points here
//	[0x6040, 0x6240)    module list, MaxModules entries
//	[0x6400, 0x6448)    memory map, 3 entries
//	[0x6800, 0x6c00)    command line, NUL-terminated
//	[0x9f000, 1 MiB)    reserved (where a PC has its EBDA, VGA and BIOS)
//	[1 MiB, ...)        image segments at their p_paddr, then modules,
//	                    each page-aligned above the highest segment
//
// All boot data sits in one page of low RAM, which Grove (like Linux) keeps
// for itself below 1 MiB, so the guest does not overwrite it while it reads.
const (
	StartInfoGPA = 0x6000
	modlistGPA   = 0x6040
	memmapGPA    = 0x6400
	cmdlineGPA   = 0x6800
	bootDataEnd  = 0x6c00

	lowRAMEnd = 0x9f000  // end of the first RAM range in the memory map
	HighRAM   = 0x100000 // segments load at or above 1 MiB

	// MaxCmdline is the longest command line, without its NUL; it matches
	// the kernel's 1024-byte buffer (kernel/bootinfo.go maxCmdline).
	MaxCmdline = 1023
	// MaxModules is the kernel's module table size (kernel/bootinfo.go).
	MaxModules = 16

	pageSize = paging.PageSize
)

// struct hvm_start_info, version 1 (xen/include/public/arch-x86/hvm/
// start_info.h): field offsets, and the sizes of its list entries.
const (
	startInfoMagic   = 0x336ec578 // XEN_HVM_START_MAGIC_VALUE
	startInfoVersion = 1

	siMagic         = 0
	siVersion       = 4
	siFlags         = 8
	siNrModules     = 12
	siModlistPaddr  = 16
	siCmdlinePaddr  = 24
	siRsdpPaddr     = 32
	siMemmapPaddr   = 40
	siMemmapEntries = 48
	startInfoSize   = 56

	modEntrySize    = 32 // {paddr, size, cmdline_paddr, reserved} u64
	memmapEntrySize = 24 // {addr, size u64; type, reserved u32}
)

// E820 memory types used in the PVH memory map.
const (
	MemRAM      = 1
	MemReserved = 2
)
