// Package image turns a stock Go linux/amd64 ELF into a bootable x86 kernel
// image. It owns the post-link patching done by cmd/groveimg: a multiboot v1
// header, a multiboot2 header, a Xen PVH ELF note and a 32-bit trampoline
// that enters long mode,
// all written into the zero padding that the Go linker leaves between the ELF
// headers and the first section when it links with -T 0x200000 -R 0x1000.
//
// It must never grow the file, move sections, or touch bytes that are not
// zero padding (other than the ELF and program headers it rewrites in
// place): the Go-produced layout stays valid for debuggers and go tooling.
// It runs on the build host only and never panics on bad input.
//
// # State at the 64-bit entry (default grove/kernel.entry64)
//
//   - Long mode, CPL 0, IF=0, DF=0. CS=0x08 (64-bit code); DS, ES, SS, FS,
//     GS = 0x10 (flat data, so FS and GS bases are 0). The GDT is the
//     trampoline's, inside the image's first page; load your own.
//   - RDI = boot magic, zero-extended: 0x2BADB002 (multiboot, RSI ->
//     multiboot_info), 0x36D76289 (multiboot2, RSI -> the boot information
//     structure) or 0x336EC578 (PVH, RSI -> hvm_start_info). RSI is the
//     zero-extended physical pointer. RAX = entry address; RBP holds
//     the magic in its low half; every other register, RSP included, is
//     undefined: there is NO stack and the IDT is still the loader's.
//   - CR3 = page-aligned start of the page-table symbol: PML4, PDPT and
//     4 PDs identity-mapping 0-4 GiB with 2 MiB pages, present + writable +
//     supervisor (page 0 included). CR4 = loader's | PAE; EFER = loader's |
//     LME (LMA set), NXE off; CR0 = loader's | PG | PE.
//   - Memory written: only those 6 pages. The info structure lies in low
//     memory outside the image (seen: 0x9500 QEMU multiboot, 0x21E0 QEMU
//     PVH, 0x10000 GRUB); the loader reserved bss_end_addr for us only.
//     GRUB under UEFI has left boot services and put the 32-bit CPU in the
//     same state as under BIOS; the firmware's interrupts are off.
package image

import (
	"errors"
	"fmt"
	"strings"
)

// Protocol is a set of boot protocols an image answers to.
type Protocol uint8

const (
	// Multiboot is Multiboot 0.6.96 (GRUB, QEMU -kernel).
	Multiboot Protocol = 1 << iota
	// PVH is the Xen/QEMU PVH direct boot (XEN_ELFNOTE_PHYS32_ENTRY).
	PVH
	// Multiboot2 is Multiboot2 2.0 (GRUB under BIOS and UEFI).
	Multiboot2

	allProtocols = Multiboot | Multiboot2 | PVH
)

// ParseProtocols parses a comma-separated list such as "multiboot,pvh".
func ParseProtocols(s string) (Protocol, error) {
	var p Protocol
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "multiboot":
			p |= Multiboot
		case "multiboot2":
			p |= Multiboot2
		case "pvh":
			p |= PVH
		default:
			return 0, fmt.Errorf("unknown boot protocol %q (want multiboot, multiboot2, pvh)", name)
		}
	}
	return p, nil
}

func (p Protocol) String() string {
	var names []string
	if p&Multiboot != 0 {
		names = append(names, "multiboot")
	}
	if p&Multiboot2 != 0 {
		names = append(names, "multiboot2")
	}
	if p&PVH != 0 {
		names = append(names, "pvh")
	}
	return strings.Join(names, ",")
}

// Options say which symbols the trampoline uses and which protocols to add.
type Options struct {
	Entry      string   // 64-bit entry symbol; DefaultEntry if empty
	PageTables string   // BSS symbol for boot page tables; DefaultPageTables if empty
	Protocols  Protocol // zero means all: Multiboot|Multiboot2|PVH
}

// Default symbol names, as declared by package grove/kernel.
const (
	DefaultEntry      = "grove/kernel.entry64"
	DefaultPageTables = "grove/kernel.bootPageTables"
)

// Errors returned by Patch, wrapped with the details of the problem.
var (
	ErrFormat         = errors.New("not a bootable Go ELF")
	ErrSymbol         = errors.New("symbol problem")
	ErrLayout         = errors.New("unsupported layout")
	ErrAlreadyPatched = errors.New("already patched")
)

// Result is a patched image and where things were put.
type Result struct {
	Image          []byte
	Protocols      Protocol
	MultibootEntry uint32 // 32-bit entry expecting EAX=0x2BADB002 or 0x36D76289
	PVHEntry       uint32 // 32-bit entry expecting EBX=hvm_start_info
	Entry64        uint64 // where the trampoline jumps in 64-bit mode
	PageTables     uint32 // page-aligned base of the 6 table pages
	BlobOff        int    // file offset of the patched blob
	BlobVaddr      uint32
	BlobSize       int
	Padding        int    // bytes of zero padding that were available
	LoadAddr       uint32 // multiboot load_addr .. bss_end_addr
	LoadEnd        uint32
	BSSEnd         uint32
	NoteOff        int // file offset of the Xen note, or -1
	HeaderOff      int // file offset of the multiboot header, or -1
	MB2HeaderOff   int // file offset of the multiboot2 header, or -1
}

// Summary is the one-line report groveimg prints.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "groveimg: %s:", r.Protocols)
	if r.Protocols&Multiboot != 0 {
		fmt.Fprintf(&b, " multiboot entry %#x (header @file %#x),", r.MultibootEntry, r.HeaderOff)
	}
	if r.Protocols&Multiboot2 != 0 {
		fmt.Fprintf(&b, " multiboot2 entry %#x (header @file %#x),", r.MultibootEntry, r.MB2HeaderOff)
	}
	if r.Protocols&PVH != 0 {
		fmt.Fprintf(&b, " pvh entry %#x (Xen note @file %#x),", r.PVHEntry, r.NoteOff)
	}
	fmt.Fprintf(&b, " entry64 %#x, page tables %#x, blob %d of %d padding bytes @file %#x, load %#x-%#x, bss end %#x",
		r.Entry64, r.PageTables, r.BlobSize, r.Padding, r.BlobOff, r.LoadAddr, r.LoadEnd, r.BSSEnd)
	return b.String()
}

// Patch returns a patched copy of the ELF in. in is not modified.
// firmwareLimit is where an image that firmware's loaders boot (multiboot,
// multiboot2: GRUB under BIOS or UEFI) must end: OVMF's ACPI NVS begins at
// 8 MiB, and GRUB does not check a fixed load address against it. A PVH
// image (a domain, or QEMU -kernel) has no such neighbour.
const firmwareLimit = 8 << 20

func Patch(in []byte, opt Options) (*Result, error) {
	if opt.Entry == "" {
		opt.Entry = DefaultEntry
	}
	if opt.PageTables == "" {
		opt.PageTables = DefaultPageTables
	}
	if opt.Protocols == 0 {
		opt.Protocols = allProtocols
	}
	if opt.Protocols&^allProtocols != 0 {
		return nil, fmt.Errorf("unknown protocol bits %#x", uint8(opt.Protocols))
	}
	lay, err := inspect(in, opt)
	if err != nil {
		return nil, err
	}
	if opt.Protocols&(Multiboot|Multiboot2) != 0 && lay.bssEnd > firmwareLimit {
		return nil, fmt.Errorf("%w: the image ends at %#x (bss included), above %#x: a loader booting it from firmware "+
			"may put it over the firmware's own memory (OVMF keeps ACPI NVS at 8 MiB; docs/kernel.md)", ErrLayout, lay.bssEnd, firmwareLimit)
	}
	out := append([]byte(nil), in...)
	return lay.apply(out, opt.Protocols)
}
