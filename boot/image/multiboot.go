package image

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Multiboot 0.6.96 §3.1.1 (header layout) and §3.1.3 (address fields):
// magic, flags, checksum, header_addr, load_addr, load_end_addr,
// bss_end_addr, entry_addr, each a little-endian u32.
const (
	mbMagic      = 0x1BADB002
	mbFlagMemory = 1 << 1  // ask for mem_lower/mem_upper (and mmap)
	mbFlagAOut   = 1 << 16 // address fields valid: load as one blob, not as ELF
	mbFlags      = mbFlagMemory | mbFlagAOut
	mbHeaderSize = 32
)

// Xen PVH: note type XEN_ELFNOTE_PHYS32_ENTRY from xen/include/public/elfnote.h;
// entry state (32-bit flat protected mode, paging off, EBX = hvm_start_info)
// from xen/include/public/arch-x86/hvm/start_info.h. QEMU 7.2's
// read_pvh_start_addr (hw/i386/x86.c) reads a full 8 bytes for an ELF64 at
// note + 12 + align_up(namesz, p_align); later QEMUs read 4. An 8-byte
// descriptor (like Linux's x86_64 .quad) with the address below 4 GiB suits
// both, and the PT_NOTE keeps p_align 4 so the value sits right after "Xen\0".
const (
	xenNoteType   = 18
	xenNoteSize   = 12 + 4 + 8
	xenNoteAlign  = 4
	xenNoteName   = "Xen\x00"
	xenNoteDescSz = 8
)

var blobSize = offPVHEntry + len(trampoline(0, 0, 0, 0))

func mbChecksum(flags uint32) uint32 { return -(mbMagic + flags) }

// findMultibootHeader reports a valid multiboot header in the first 8 KiB.
func findMultibootHeader(in []byte) (int, bool) {
	end := min(len(in), mbSearchSize) - 12
	for off := 0; off <= end; off += 4 {
		magic := binary.LittleEndian.Uint32(in[off:])
		flags := binary.LittleEndian.Uint32(in[off+4:])
		if magic == mbMagic && binary.LittleEndian.Uint32(in[off+8:]) == mbChecksum(flags) {
			return off, true
		}
	}
	return 0, false
}

// hasPVHNote reports a Xen PHYS32_ENTRY note in any PT_NOTE segment.
func hasPVHNote(f *elf.File) bool {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz > 1<<20 {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			continue
		}
		for len(b) >= 12 {
			namesz := uint64(binary.LittleEndian.Uint32(b))
			descsz := uint64(binary.LittleEndian.Uint32(b[4:]))
			typ := binary.LittleEndian.Uint32(b[8:])
			name := b[12:]
			if typ == xenNoteType && namesz == 4 && len(name) >= 4 && string(name[:4]) == xenNoteName {
				return true
			}
			n := 12 + (namesz+3)&^3 + (descsz+3)&^3
			if n > uint64(len(b)) {
				break
			}
			b = b[n:]
		}
	}
	return false
}

// apply writes the blob into out (a copy of the input) at the start of the
// padding and points the ELF at it.
func (l *layout) apply(out []byte, protos Protocol) (*Result, error) {
	off := (l.padStart + blobAlign - 1) &^ (blobAlign - 1)
	if off+blobSize > l.padEnd {
		return nil, fmt.Errorf("%w: too little padding: %d bytes at file offset %#x, need %d (+alignment)",
			ErrLayout, l.padEnd-l.padStart, l.padStart, blobSize)
	}
	// All of it, not just the blob's bytes: anything non-zero means the
	// gap is not the linker's padding and our picture of the file is wrong.
	for i := l.padStart; i < l.padEnd; i++ {
		if out[i] != 0 {
			return nil, fmt.Errorf("%w: padding not zero: byte %#x at file offset %#x (between the ELF headers and the first section)",
				ErrLayout, out[i], i)
		}
	}
	v := l.vaddr(off)
	r := &Result{
		Protocols: protos, Entry64: l.entry64, PageTables: l.pageTables,
		BlobOff: off, BlobVaddr: v, BlobSize: blobSize, Padding: l.padEnd - l.padStart,
		LoadAddr: l.loadAddr, LoadEnd: l.loadEnd, BSSEnd: l.bssEnd,
		MultibootEntry: v + offMBEntry, PVHEntry: v + offPVHEntry,
		HeaderOff: -1, MB2HeaderOff: -1, NoteOff: -1,
	}
	copy(out[off+offGDT:], gdtBytes(v+offGDT))
	copy(out[off+offPVHEntry:], trampoline(v+offPVHEntry, l.pageTables, v+offGDTR, l.entry64))
	entry := r.PVHEntry
	if protos&Multiboot != 0 {
		r.HeaderOff = off + offMBHeader
		l.writeMultiboot(out[r.HeaderOff:], v+offMBHeader, r.MultibootEntry)
		entry = r.MultibootEntry
	}
	if protos&Multiboot2 != 0 {
		r.MB2HeaderOff = off + offMB2
		l.writeMultiboot2(out[r.MB2HeaderOff:], v+offMB2, r.MultibootEntry)
		entry = r.MultibootEntry
	}
	if protos&PVH != 0 {
		r.NoteOff = off + offXenNote
		l.writeNote(out, r.NoteOff, r.PVHEntry)
	}
	// e_entry names the 32-bit entry a loader should use; Go's _rt0 entry
	// is meaningless at boot.
	binary.LittleEndian.PutUint64(out[0x18:], uint64(entry))
	r.Image = out
	return r, nil
}

func (l *layout) writeMultiboot(b []byte, headerAddr, entry uint32) {
	for i, v := range []uint32{mbMagic, mbFlags, mbChecksum(mbFlags), headerAddr,
		l.loadAddr, l.loadEnd, l.bssEnd, entry} {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
}

// writeNote writes the Xen note at file offset off and turns program
// header l.noteIdx into a PT_NOTE covering exactly that note, so QEMU's
// note walk finds it first.
func (l *layout) writeNote(out []byte, off int, entry uint32) {
	b := out[off:]
	binary.LittleEndian.PutUint32(b[0:], uint32(len(xenNoteName)))
	binary.LittleEndian.PutUint32(b[4:], xenNoteDescSz)
	binary.LittleEndian.PutUint32(b[8:], xenNoteType)
	copy(b[12:], xenNoteName)
	binary.LittleEndian.PutUint64(b[16:], uint64(entry))

	ph := out[l.phoff+l.noteIdx*phdrSize:]
	binary.LittleEndian.PutUint32(ph[0:], uint32(elf.PT_NOTE))
	binary.LittleEndian.PutUint32(ph[4:], uint32(elf.PF_R))
	binary.LittleEndian.PutUint64(ph[8:], uint64(off))
	binary.LittleEndian.PutUint64(ph[16:], uint64(l.vaddr(off)))
	binary.LittleEndian.PutUint64(ph[24:], uint64(l.vaddr(off)))
	binary.LittleEndian.PutUint64(ph[32:], xenNoteSize)
	binary.LittleEndian.PutUint64(ph[40:], xenNoteSize)
	binary.LittleEndian.PutUint64(ph[48:], xenNoteAlign)
}
