// Package guesttest builds small PVH guest images in memory, so tests of
// the guest loader, the boot bundle and the tools that use them need neither
// a toolchain nor files on disk. Images follow the System V ABI ELF layout
// (ELF32 or ELF64, little-endian) with the Xen PVH entry note of
// xen/include/public/elfnote.h (owner "Xen", type 18 XEN_ELFNOTE_PHYS32_ENTRY).
//
// It is for tests and fuzz seeds only: the images carry no code worth running.
package guesttest

import (
	"bytes"
	"encoding/binary"
)

// ELF machine and type numbers (System V ABI, "ELF Header").
const (
	EM386    = 3
	EMX86_64 = 62
	EMARM    = 40
	ETExec   = 2
	ETDyn    = 3
)

// Note types and owners (Xen public/elfnote.h).
const (
	XenOwner        = "Xen"
	NotePhys32Entry = 18 // XEN_ELFNOTE_PHYS32_ENTRY
)

// Segment is one PT_LOAD: Data is its file contents, Memsz its size in
// memory (0 means len(Data)).
type Segment struct {
	Paddr uint64
	Data  []byte
	Memsz uint64
}

// Note is one ELF note; Desc is stored as given.
type Note struct {
	Owner string
	Type  uint32
	Desc  []byte
}

// Spec describes an image. The zero values of Machine and Type mean x86 (or
// x86-64 for Class64) and ET_EXEC.
type Spec struct {
	Class64  bool
	Machine  uint16
	Type     uint16
	Segments []Segment
	Notes    []Note
	Entry    uint64 // e_entry; 0 means the first segment's address
}

// PVHNote is the entry note for a 32-bit physical entry address.
func PVHNote(entry uint32) Note {
	return Note{Owner: XenOwner, Type: NotePhys32Entry, Desc: binary.LittleEndian.AppendUint32(nil, entry)}
}

// Simple is a valid image: one code segment at 1 MiB (entry at its start),
// one data segment with bss at 1 MiB + 64 KiB.
func Simple(class64 bool) []byte {
	code := bytes.Repeat([]byte{0xf4}, 64) // hlt
	data := []byte("guesttest data")
	return ELF(Spec{
		Class64: class64,
		Segments: []Segment{
			{Paddr: 0x100000, Data: code},
			{Paddr: 0x110000, Data: data, Memsz: 0x2000},
		},
		Notes: []Note{PVHNote(0x100000)},
	})
}

// ELF lays out s: headers, notes, then each segment's data at a 16-byte
// aligned offset. It writes whatever s says, valid or not, so tests can
// build broken images too.
func ELF(s Spec) []byte {
	w := newWriter(s)
	w.header()
	w.phdrs()
	w.b.Write(w.notes)
	for _, seg := range s.Segments {
		w.pad16()
		w.b.Write(seg.Data)
	}
	return w.b.Bytes()
}

type writer struct {
	s          Spec
	b          bytes.Buffer
	notes      []byte
	ehsz, phsz int
}

func newWriter(s Spec) *writer {
	w := &writer{s: s, ehsz: 52, phsz: 32}
	if s.Class64 {
		w.ehsz, w.phsz = 64, 56
	}
	if w.s.Machine == 0 {
		w.s.Machine = EM386
		if s.Class64 {
			w.s.Machine = EMX86_64
		}
	}
	if w.s.Type == 0 {
		w.s.Type = ETExec
	}
	for _, n := range s.Notes {
		w.notes = appendNote(w.notes, n)
	}
	return w
}

func appendNote(b []byte, n Note) []byte {
	le := binary.LittleEndian
	name := append([]byte(n.Owner), 0)
	b = le.AppendUint32(b, uint32(len(name)))
	b = le.AppendUint32(b, uint32(len(n.Desc)))
	b = le.AppendUint32(b, n.Type)
	b = append(b, pad4(name)...)
	return append(b, pad4(n.Desc)...)
}

func pad4(b []byte) []byte {
	return append(b, make([]byte, (4-len(b)%4)%4)...)
}

func (w *writer) pad16() {
	w.b.Write(make([]byte, (16-w.b.Len()%16)%16))
}

// entry is the ELF header's e_entry: the first segment's address (loaders
// use the PVH note, not this).
func (w *writer) entry() uint64 {
	if w.s.Entry != 0 {
		return w.s.Entry
	}
	if len(w.s.Segments) == 0 {
		return 0
	}
	return w.s.Segments[0].Paddr
}

func (w *writer) put(v ...any) {
	for _, x := range v {
		binary.Write(&w.b, binary.LittleEndian, x)
	}
}

// word writes an address-sized field.
func (w *writer) word(v uint64) {
	if w.s.Class64 {
		w.put(v)
	} else {
		w.put(uint32(v))
	}
}

func (w *writer) header() {
	class := byte(1)
	if w.s.Class64 {
		class = 2
	}
	w.b.Write([]byte{0x7f, 'E', 'L', 'F', class, 1, 1, 0})
	w.b.Write(make([]byte, 8))
	w.put(w.s.Type, w.s.Machine, uint32(1))
	w.word(w.entry())
	w.word(uint64(w.ehsz)) // e_phoff
	w.word(0)              // e_shoff: no sections
	w.put(uint32(0), uint16(w.ehsz), uint16(w.phsz), uint16(w.nphdr()), uint16(0), uint16(0), uint16(0))
}

func (w *writer) nphdr() int {
	n := len(w.s.Segments)
	if len(w.notes) > 0 {
		n++
	}
	return n
}

// phdrs writes the PT_NOTE (if any) then one PT_LOAD per segment, with
// file offsets matching what ELF will lay out.
func (w *writer) phdrs() {
	off := uint64(w.ehsz + w.nphdr()*w.phsz)
	if len(w.notes) > 0 {
		w.phdr(4, off, 0, uint64(len(w.notes)), uint64(len(w.notes)), 4, 4)
		off += uint64(len(w.notes))
	}
	for _, seg := range w.s.Segments {
		off = (off + 15) &^ 15
		memsz := seg.Memsz
		if memsz == 0 {
			memsz = uint64(len(seg.Data))
		}
		w.phdr(1, off, seg.Paddr, uint64(len(seg.Data)), memsz, 7, 16)
		off += uint64(len(seg.Data))
	}
}

// phdr writes one program header; ELF32 and ELF64 order the fields
// differently (flags moved after type in ELF64).
func (w *writer) phdr(typ uint32, off, paddr, filesz, memsz uint64, flags uint32, align uint64) {
	if w.s.Class64 {
		w.put(typ, flags, off, paddr, paddr, filesz, memsz, align)
		return
	}
	w.put(typ, uint32(off), uint32(paddr), uint32(paddr), uint32(filesz), uint32(memsz), flags, uint32(align))
}
