package guest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Multiboot (version 1) kernels: QEMU's test kernels (kvm-unit-tests' x86
// .flat files), GRUB-era hobby kernels, Xen. References: the Multiboot
// Specification 0.6.96, §3.1 (OS image format) and §3.2 (machine state);
// QEMU hw/i386/multiboot.c for the choices a loader makes. The boot
// information the kernel gets is in multibootplan.go.

// Multiboot header fields (§3.1.1-§3.1.3).
const (
	MultibootMagic     = 0x1BADB002 // in the image's header
	MultibootBootMagic = 0x2BADB002 // in EAX at the kernel's entry

	mbSearch    = 8192 // the header lies 4-aligned within the first 8 KiB
	mbHeaderLen = 12   // magic, flags, checksum
	mbAddrLen   = 20   // header_addr .. entry_addr, with flag 16

	mbPageAlign  = 1 << 0  // modules on page boundaries: always done
	mbMemInfo    = 1 << 1  // mem_* and mmap wanted: always given
	mbVideo      = 1 << 2  // a video mode wanted: Grove has no display
	mbAoutKludge = 1 << 16 // the address fields are valid: load by them, not by ELF

	mbKnownRequired = mbPageAlign | mbMemInfo
	mbRequiredMask  = 0xffff // bits 0-15 are requirements a loader must meet or refuse
)

// IsMultiboot says whether data has a multiboot header: the magic 4-byte
// aligned in its first 8 KiB with flags and checksum summing to zero, as
// QEMU's -kernel decides. The hypervisor tries it after a bzImage's "HdrS"
// and before a PVH note, in QEMU's order (an image can carry both a
// multiboot header and a PVH note; Grove's own does).
func IsMultiboot(data []byte) bool {
	_, ok := findMultiboot(data)
	return ok
}

// findMultiboot returns the offset of the first valid multiboot header.
func findMultiboot(data []byte) (int, bool) {
	le := binary.LittleEndian
	for off := 0; off+mbHeaderLen <= min(len(data), mbSearch); off += 4 {
		h := data[off:]
		if le.Uint32(h) == MultibootMagic && le.Uint32(h)+le.Uint32(h[4:])+le.Uint32(h[8:]) == 0 {
			return off, true
		}
	}
	return 0, false
}

// MultibootImage is a checked multiboot kernel.
type MultibootImage struct {
	Name     string
	Flags    uint32    // the header's flags
	Entry    uint32    // physical entry address
	Segments []Segment // what to load, sorted by Paddr, disjoint
}

// End is the first address past the highest segment.
func (img *MultibootImage) End() uint64 { return img.Segments[len(img.Segments)-1].End() }

// ParseMultiboot checks data as a multiboot kernel called name (used in
// errors, and the first word of the kernel's command line).
func ParseMultiboot(name string, data []byte) (*MultibootImage, error) {
	img, err := parseMultiboot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	img.Name = name
	return img, nil
}

func parseMultiboot(data []byte) (img *MultibootImage, err error) {
	defer func() { // as parseImage: a hostile ELF must not crash the hypervisor
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("malformed multiboot image (%v)", r)
		}
	}()
	off, ok := findMultiboot(data)
	if !ok {
		return nil, errors.New("not a multiboot kernel: no header (magic 0x1BADB002 with a valid checksum, 4-byte aligned in the first 8 KiB)")
	}
	flags := binary.LittleEndian.Uint32(data[off+4:])
	if err := checkMultibootFlags(flags); err != nil {
		return nil, err
	}
	img = &MultibootImage{Flags: flags}
	if flags&mbAoutKludge != 0 {
		err = img.loadAout(data, off)
	} else {
		err = img.loadELF(data)
	}
	if err != nil {
		return nil, err
	}
	if !segmentsContain(img.Segments, uint64(img.Entry)) {
		return nil, fmt.Errorf("multiboot entry %#x is outside the loaded image", img.Entry)
	}
	return img, nil
}

// checkMultibootFlags refuses a requirement Grove cannot meet: §3.1.2 says
// a loader must fail on a required bit (0-15) it does not understand.
func checkMultibootFlags(flags uint32) error {
	req := flags & mbRequiredMask
	switch {
	case req&mbVideo != 0:
		return errors.New("multiboot header asks for a video mode (flag 2): Grove has no display")
	case req&^mbKnownRequired != 0:
		return fmt.Errorf("multiboot header requires features Grove does not know (flags %#x)", req&^mbKnownRequired)
	}
	return nil
}

// loadAout takes the load addresses from the header (the "a.out kludge",
// §3.1.3): the file from the header's offset back to load_addr goes at
// load_addr, up to load_end_addr (0: the end of the file), then zeroes up
// to bss_end_addr (0: none).
func (img *MultibootImage) loadAout(data []byte, off int) error {
	le := binary.LittleEndian
	if off+mbHeaderLen+mbAddrLen > len(data) {
		return errors.New("multiboot header with flag 16 is cut short: no address fields")
	}
	a := data[off+mbHeaderLen:]
	hdr, load, loadEnd, bssEnd := le.Uint32(a), le.Uint32(a[4:]), le.Uint32(a[8:]), le.Uint32(a[12:])
	img.Entry = le.Uint32(a[16:])
	if hdr < load || uint64(hdr-load) > uint64(off) {
		return fmt.Errorf("multiboot header_addr %#x and load_addr %#x put the load start before the file's start (header at file offset %#x)", hdr, load, off)
	}
	start := uint64(off) - uint64(hdr-load)
	size := uint64(len(data)) - start
	if loadEnd != 0 {
		if loadEnd <= load {
			return fmt.Errorf("multiboot load_end_addr %#x is not above load_addr %#x", loadEnd, load)
		}
		if size = uint64(loadEnd - load); start+size > uint64(len(data)) {
			return fmt.Errorf("multiboot load [%#x, %#x) runs past the end of the %d-byte file", load, loadEnd, len(data))
		}
	}
	memsz := size
	if bssEnd != 0 {
		if uint64(bssEnd) < uint64(load)+size {
			return fmt.Errorf("multiboot bss_end_addr %#x is below the end of the loaded data %#x", bssEnd, uint64(load)+size)
		}
		memsz = uint64(bssEnd - load)
	}
	img.Segments = []Segment{{Paddr: uint64(load), FileData: data[start : start+size], Memsz: memsz}}
	return nil
}

// loadELF loads the PT_LOAD segments of an ELF32 i386 executable at their
// physical addresses (§3.1.3: without flag 16 the image must be ELF). The
// entry is e_entry, moved from virtual to physical if a segment's
// addresses differ.
func (img *MultibootImage) loadELF(data []byte) error {
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return errors.New("multiboot header without flag 16 (load addresses) in an image that is not ELF")
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("multiboot ELF: headers cut short at %d bytes", len(data))
	}
	if err != nil {
		return fmt.Errorf("multiboot ELF: %w", err)
	}
	if f.Class != elf.ELFCLASS32 || f.Machine != elf.EM_386 {
		return fmt.Errorf("multiboot loads ELF32 i386 images, this is %v %v", f.Class, f.Machine)
	}
	if err := checkHeader(f); err != nil {
		return fmt.Errorf("multiboot ELF: %w", err)
	}
	if img.Segments, err = loadSegments(f, data); err != nil {
		return fmt.Errorf("multiboot ELF: %w", err)
	}
	img.Entry = uint32(f.Entry)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && f.Entry >= p.Vaddr && f.Entry-p.Vaddr < p.Memsz {
			img.Entry = uint32(f.Entry - p.Vaddr + p.Paddr)
			break
		}
	}
	return nil
}
