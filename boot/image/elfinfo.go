package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"

	"grove/x86/paging"
)

const (
	pageSize     = paging.PageSize
	tablePages   = 6 // PML4, PDPT, 4 PDs
	fourGiB      = 1 << 32
	oneMiB       = 1 << 20
	ehdrSize     = 64
	phdrSize     = 56
	shdrSize     = 64
	mbSearchSize = 8192 // Multiboot 0.6.96 §3.1: header within the first 8 KiB
	// QEMU's hw/i386/multiboot.c scans offsets i < 8192-48 only.
	mbQEMUScanEnd = mbSearchSize - 48
)

// layout is everything inspect learned about an input that Patch needs.
type layout struct {
	phoff      int
	noteIdx    int // program header rewritten into PT_NOTE
	padStart   int // zero padding [padStart, padEnd) in file offsets
	padEnd     int
	bias       uint64 // vaddr - file offset, constant over all PT_LOADs
	loadAddr   uint32
	loadOff    uint64
	loadEnd    uint32
	bssEnd     uint32
	entry64    uint64
	pageTables uint32 // page-aligned
}

func (l *layout) vaddr(off int) uint32 { return uint32(uint64(off) + l.bias) }

// inspect validates in and finds where the boot blob can go.
func inspect(in []byte, opt Options) (*layout, error) {
	if len(in) < ehdrSize {
		return nil, fmt.Errorf("%w: file shorter than an ELF header", ErrFormat)
	}
	f, err := elf.NewFile(bytes.NewReader(in))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("%w: want ELF64 little-endian x86-64, have %v %v %v", ErrFormat, f.Class, f.Data, f.Machine)
	}
	if f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("%w: want an executable (ET_EXEC), have %v; link without -buildmode=pie", ErrFormat, f.Type)
	}
	if off, ok := findMultibootHeader(in); ok {
		return nil, fmt.Errorf("%w: already has a multiboot header at file offset %#x", ErrAlreadyPatched, off)
	}
	if off, ok := findMultiboot2Header(in); ok {
		return nil, fmt.Errorf("%w: already has a multiboot2 header at file offset %#x", ErrAlreadyPatched, off)
	}
	if hasPVHNote(f) {
		return nil, fmt.Errorf("%w: already has a PVH (Xen PHYS32_ENTRY) note", ErrAlreadyPatched)
	}
	l := &layout{noteIdx: -1}
	if err := l.loads(in, f); err != nil {
		return nil, err
	}
	if err := l.padding(in, f); err != nil {
		return nil, err
	}
	if err := l.symbols(f, opt); err != nil {
		return nil, err
	}
	if opt.Protocols&PVH != 0 && l.noteIdx < 0 {
		return nil, fmt.Errorf("%w: no PT_GNU_STACK or PT_NOTE program header to turn into the PVH PT_NOTE", ErrLayout)
	}
	return l, nil
}

// loads checks that PT_LOAD segments form one blob at a constant
// vaddr-offset, as multiboot's a.out kludge loads the file contiguously
// (Multiboot 0.6.96 §3.1.3), and that they are identity-mappable below 4 GiB.
func (l *layout) loads(in []byte, f *elf.File) error {
	l.phoff = int(binary.LittleEndian.Uint64(in[0x20:]))
	if n := binary.LittleEndian.Uint16(in[0x36:]); len(f.Progs) > 0 && n != phdrSize {
		return fmt.Errorf("%w: program header size %d, want %d", ErrFormat, n, phdrSize)
	}
	var first, last *elf.Prog
	for i, p := range f.Progs {
		switch p.Type {
		case elf.PT_GNU_STACK:
			l.noteIdx = i
		case elf.PT_NOTE:
			if l.noteIdx < 0 {
				l.noteIdx = i
			}
		case elf.PT_LOAD:
		default:
			continue
		}
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Off > uint64(len(in)) || p.Filesz > uint64(len(in))-p.Off {
			return fmt.Errorf("%w: segment %d (vaddr %#x) extends past end of file", ErrFormat, i, p.Vaddr)
		}
		if p.Filesz > p.Memsz || p.Vaddr < p.Off {
			return fmt.Errorf("%w: segment %d (vaddr %#x): filesz > memsz or vaddr < offset", ErrLayout, i, p.Vaddr)
		}
		if p.Paddr != p.Vaddr {
			return fmt.Errorf("%w: segment %d: paddr %#x != vaddr %#x; boot needs an identity-mapped image", ErrLayout, i, p.Paddr, p.Vaddr)
		}
		if first == nil {
			first, l.bias = p, p.Vaddr-p.Off
		} else if p.Vaddr-p.Off != l.bias {
			return fmt.Errorf("%w: segment %d (vaddr %#x, offset %#x) is not at the same vaddr-offset (%#x) as segment 0; multiboot loads the file as one blob",
				ErrLayout, i, p.Vaddr, p.Off, l.bias)
		} else if p.Vaddr < last.Vaddr+last.Memsz {
			return fmt.Errorf("%w: segment %d (vaddr %#x) overlaps or precedes the previous one", ErrLayout, i, p.Vaddr)
		}
		if p.Vaddr >= fourGiB || p.Memsz >= fourGiB || p.Vaddr+p.Memsz > fourGiB {
			return fmt.Errorf("%w: segment %d (vaddr %#x memsz %#x) ends above 4 GiB; the boot identity map covers 0-4 GiB", ErrLayout, i, p.Vaddr, p.Memsz)
		}
		last = p
	}
	if first == nil {
		return fmt.Errorf("%w: no PT_LOAD segment", ErrFormat)
	}
	if first.Vaddr < oneMiB {
		return fmt.Errorf("%w: image loads at %#x, below 1 MiB (link with -T 0x200000)", ErrLayout, first.Vaddr)
	}
	l.loadAddr, l.loadOff = uint32(first.Vaddr), first.Off
	l.loadEnd = uint32(last.Vaddr + last.Filesz)
	l.bssEnd = uint32(last.Vaddr + last.Memsz)
	return nil
}

// padding finds the zero bytes between the header tables and the first
// section of the first PT_LOAD, where the Go linker pads to the next page.
func (l *layout) padding(in []byte, f *elf.File) error {
	p0 := firstLoad(f)
	segEnd := p0.Off + p0.Filesz
	start := max(uint64(ehdrSize), p0.Off, uint64(l.phoff)+uint64(len(f.Progs))*phdrSize)
	shoff := binary.LittleEndian.Uint64(in[0x28:])
	if shoff >= p0.Off && shoff < segEnd {
		start = max(start, shoff+uint64(len(f.Sections))*shdrSize)
	}
	end := segEnd
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL || s.Size == 0 {
			continue
		}
		if s.Offset >= start && s.Offset < end {
			end = s.Offset
		}
	}
	if start >= end || end > uint64(len(in)) {
		return fmt.Errorf("%w: no padding after the ELF headers in the first segment", ErrLayout)
	}
	l.padStart, l.padEnd = int(start), int(end)
	if l.padStart > mbQEMUScanEnd-blobSize {
		return fmt.Errorf("%w: headers end at file offset %#x, too late for a multiboot header (must be in the first 8 KiB)", ErrLayout, start)
	}
	return nil
}

func firstLoad(f *elf.File) *elf.Prog {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			return p
		}
	}
	return nil
}

// symbols resolves the 64-bit entry and the page-table area.
func (l *layout) symbols(f *elf.File, opt Options) error {
	syms, err := f.Symbols()
	if err != nil {
		return fmt.Errorf("%w: reading symbol table: %v (do not strip with -s)", ErrSymbol, err)
	}
	entry, err := lookup(syms, opt.Entry)
	if err != nil {
		return err
	}
	if elf.ST_TYPE(entry.Info) != elf.STT_FUNC {
		return fmt.Errorf("%w: entry %s is not a function", ErrSymbol, entry.Name)
	}
	if entry.Value >= fourGiB || !l.inImage(entry.Value, 1) {
		return fmt.Errorf("%w: entry %s at %#x is outside the loaded image", ErrSymbol, entry.Name, entry.Value)
	}
	l.entry64 = entry.Value
	pt, err := lookup(syms, opt.PageTables)
	if err != nil {
		return err
	}
	base := (pt.Value + pageSize - 1) &^ (pageSize - 1)
	need := base - pt.Value + tablePages*pageSize
	if pt.Value > fourGiB || pt.Size < need {
		return fmt.Errorf("%w: %s at %#x has %d bytes; needs %d to hold %d page-aligned table pages (declare it as [7*4096]byte)",
			ErrSymbol, pt.Name, pt.Value, pt.Size, need, tablePages)
	}
	if !l.inImage(pt.Value, pt.Size) {
		return fmt.Errorf("%w: %s at %#x is outside the loaded image", ErrSymbol, pt.Name, pt.Value)
	}
	l.pageTables = uint32(base)
	return nil
}

func (l *layout) inImage(addr, size uint64) bool {
	return addr >= uint64(l.loadAddr) && addr+size <= uint64(l.bssEnd) && addr+size >= addr
}

// lookup finds name, preferring the raw assembly body name.abi0 that the Go
// linker emits for ABI0 functions over any ABIInternal wrapper, which would
// need a goroutine in R14.
func lookup(syms []elf.Symbol, name string) (elf.Symbol, error) {
	var found *elf.Symbol
	for i := range syms {
		switch syms[i].Name {
		case name + ".abi0":
			return syms[i], nil
		case name:
			found = &syms[i]
		}
	}
	if found == nil {
		return elf.Symbol{}, fmt.Errorf("%w: missing symbol %s", ErrSymbol, name)
	}
	return *found, nil
}
