// Package guest loads guest images into guest RAM. PVH images boot the way
// Xen's PVH boot does: it checks an ELF image and finds its entry note
// (ParseImage), decides where every byte goes in guest-physical memory,
// start_info included (NewPlan), and copies that plan into a byte slice
// (Apply). Linux bzImages boot through Linux's 32-bit boot protocol
// (ParseLinux, NewLinuxPlan in linux.go and linuxplan.go), with ACPI tables
// (acpi.go) describing the platform in platform.go; docs/linux.md.
//
// References: System V ABI (ELF32/ELF64 headers, program headers, notes);
// Xen xen/include/public/elfnote.h (XEN_ELFNOTE_PHYS32_ENTRY) and
// xen/include/public/arch-x86/hvm/start_info.h (struct hvm_start_info,
// version 1). The reader side is kernel/bootinfo.go's parsePVH.
//
// The package is pure Go and never touches hardware: the hypervisor applies
// a Plan's writes to the pages it gives the guest. Images are untrusted
// input (they come from a boot bundle), so every offset and size is checked
// and errors name the image.
package guest

import (
	"bytes"
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Note owner and type of the PVH entry (Xen public/elfnote.h).
const (
	xenNoteOwner          = "Xen"
	xenElfnotePhys32Entry = 18 // XEN_ELFNOTE_PHYS32_ENTRY
)

// Image is a checked PVH guest image.
type Image struct {
	Name     string
	Class    elf.Class // ELFCLASS32 or ELFCLASS64
	Entry    uint32    // 32-bit physical entry from the PVH note
	Segments []Segment // PT_LOADs with memsz > 0, sorted by Paddr, disjoint
}

// Segment is one PT_LOAD: FileData (a slice of the image bytes, not a
// copy) goes at Paddr and the rest of Memsz is zeroed.
type Segment struct {
	Paddr    uint64
	FileData []byte
	Memsz    uint64
}

// End is the first address past the segment.
func (s Segment) End() uint64 { return s.Paddr + s.Memsz }

// End is the first address past the highest segment.
func (img *Image) End() uint64 {
	return img.Segments[len(img.Segments)-1].End()
}

// ParseImage checks data as a PVH image called name (used in errors).
func ParseImage(name string, data []byte) (*Image, error) {
	img, err := parseImage(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	img.Name = name
	return img, nil
}

func parseImage(data []byte) (img *Image, err error) {
	// debug/elf promises errors, not panics, on bad input, but an image
	// crashing the hypervisor at boot is too high a price to trust that.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("malformed ELF (%v)", r)
		}
	}()
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return nil, fmt.Errorf("not an ELF image (it does not start with \\x7fELF)")
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("not an ELF image: headers cut short at %d bytes", len(data))
	}
	if err != nil {
		return nil, fmt.Errorf("not an ELF image: %w", err)
	}
	if err := checkHeader(f); err != nil {
		return nil, err
	}
	img = &Image{Class: f.Class}
	if img.Entry, err = findEntry(f, data); err != nil {
		return nil, err
	}
	if img.Segments, err = loadSegments(f, data); err != nil {
		return nil, err
	}
	if !img.contains(uint64(img.Entry)) {
		return nil, fmt.Errorf("PVH entry %#x is outside every PT_LOAD segment", img.Entry)
	}
	return img, nil
}

// checkHeader accepts what the PVH start of day can run: x86 code in
// 32-bit protected mode, so an ELF32 i386 or ELF64 x86-64 executable.
func checkHeader(f *elf.File) error {
	if f.Data != elf.ELFDATA2LSB {
		return fmt.Errorf("want a little-endian ELF, have %v", f.Data)
	}
	ok := f.Class == elf.ELFCLASS32 && f.Machine == elf.EM_386 ||
		f.Class == elf.ELFCLASS64 && f.Machine == elf.EM_X86_64
	if !ok {
		return fmt.Errorf("want an x86 (ELF32 EM_386 or ELF64 EM_X86_64) image, have %v %v", f.Class, f.Machine)
	}
	if f.Type != elf.ET_EXEC {
		return fmt.Errorf("want an executable (ET_EXEC), have %v", f.Type)
	}
	return nil
}

// findEntry returns the first PVH entry note found through the PT_NOTE
// program headers (loaders go by program headers; sections may be absent).
func findEntry(f *elf.File, data []byte) (uint32, error) {
	for i, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b, err := fileRange(data, p.Off, p.Filesz)
		if err != nil {
			return 0, fmt.Errorf("PT_NOTE (program header %d): %w", i, err)
		}
		entry, found, err := scanNotes(b, p.Align)
		if err != nil {
			return 0, fmt.Errorf("PT_NOTE (program header %d): %w", i, err)
		}
		if found {
			return entry, nil
		}
	}
	return 0, fmt.Errorf("no PVH entry note (owner %q, type %d XEN_ELFNOTE_PHYS32_ENTRY) in any PT_NOTE",
		xenNoteOwner, xenElfnotePhys32Entry)
}

// scanNotes walks {namesz, descsz, type, name, desc} records. Names and
// descriptors are padded to 4 bytes, or 8 in a segment aligned to 8 (the
// gABI's ELF64 rule, which some linkers follow).
func scanNotes(b []byte, align uint64) (uint32, bool, error) {
	pad := uint64(4)
	if align == 8 {
		pad = 8
	}
	le := binary.LittleEndian
	for len(b) >= 12 {
		nsz, dsz, typ := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])), le.Uint32(b[8:])
		nameEnd := 12 + roundUp(nsz, pad)
		descEnd := nameEnd + roundUp(dsz, pad)
		if descEnd > uint64(len(b)) {
			return 0, false, fmt.Errorf("note runs past the end of its segment")
		}
		name := string(bytes.TrimRight(b[12:12+nsz], "\x00"))
		if name == xenNoteOwner && typ == xenElfnotePhys32Entry {
			e, err := pvhEntry(b[nameEnd : nameEnd+dsz])
			return e, err == nil, err
		}
		b = b[descEnd:]
	}
	return 0, false, nil
}

// pvhEntry decodes the note's descriptor: Xen accepts a 32- or 64-bit
// little-endian value, which must be a 32-bit address either way.
func pvhEntry(desc []byte) (uint32, error) {
	switch len(desc) {
	case 4:
		return binary.LittleEndian.Uint32(desc), nil
	case 8:
		v := binary.LittleEndian.Uint64(desc)
		if v > math.MaxUint32 {
			return 0, fmt.Errorf("PVH entry %#x is above 4 GiB", v)
		}
		return uint32(v), nil
	}
	return 0, fmt.Errorf("PVH entry note has a %d-byte descriptor, want 4 or 8", len(desc))
}

// loadSegments collects the PT_LOADs that occupy memory, sorted and
// checked for overlap.
func loadSegments(f *elf.File, data []byte) ([]Segment, error) {
	var segs []Segment
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		s, err := segment(p, data)
		if err != nil {
			return nil, fmt.Errorf("PT_LOAD (program header %d) at %#x: %w", i, p.Paddr, err)
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("no PT_LOAD segment")
	}
	slices.SortFunc(segs, func(a, b Segment) int { return cmp.Compare(a.Paddr, b.Paddr) })
	for i := 1; i < len(segs); i++ {
		if prev := segs[i-1]; prev.End() > segs[i].Paddr {
			return nil, fmt.Errorf("PT_LOAD segments [%#x, %#x) and [%#x, %#x) overlap",
				prev.Paddr, prev.End(), segs[i].Paddr, segs[i].End())
		}
	}
	return segs, nil
}

func segment(p *elf.Prog, data []byte) (Segment, error) {
	if p.Filesz > p.Memsz {
		return Segment{}, fmt.Errorf("file size %#x is larger than memory size %#x", p.Filesz, p.Memsz)
	}
	if p.Paddr+p.Memsz < p.Paddr {
		return Segment{}, fmt.Errorf("address + memory size %#x overflows", p.Memsz)
	}
	b, err := fileRange(data, p.Off, p.Filesz)
	if err != nil {
		return Segment{}, err
	}
	return Segment{Paddr: p.Paddr, FileData: b, Memsz: p.Memsz}, nil
}

// fileRange is data[off:off+n], or an error if that runs past the file.
func fileRange(data []byte, off, n uint64) ([]byte, error) {
	if off > uint64(len(data)) || n > uint64(len(data))-off {
		return nil, fmt.Errorf("file range [%#x, +%#x) is past the end of the %d-byte image", off, n, len(data))
	}
	return data[off : off+n], nil
}

func (img *Image) contains(addr uint64) bool { return segmentsContain(img.Segments, addr) }

// segmentsContain says whether addr falls in one of segs.
func segmentsContain(segs []Segment, addr uint64) bool {
	for _, s := range segs {
		if addr >= s.Paddr && addr < s.End() {
			return true
		}
	}
	return false
}

func roundUp(v, align uint64) uint64 { return (v + align - 1) &^ (align - 1) }
