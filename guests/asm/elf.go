package asm

import (
	"bytes"
	"encoding/binary"
)

// ELF32 with two PT_LOAD segments (code, data) and a PT_NOTE holding the
// Xen PVH entry note (type 18, owner "Xen"). Layouts: System V ABI ELF32;
// the note as Xen's include/public/elfnote.h describes it.

const (
	ehdrSize = 52
	phdrSize = 32
	nPhdr    = 3
	noteOff  = ehdrSize + nPhdr*phdrSize
	noteSize = 12 + 4 + 4 // header, "Xen\0", entry
	codeOff  = 0x1000
)

// Image wraps a program as a PVH ELF guest image.
func (p *Prog) Image() ([]byte, error) {
	code, err := p.Code()
	if err != nil {
		return nil, err
	}
	if len(code) > DataBase-CodeBase || len(p.data) > StackTop {
		return nil, errUndefined("(program too large)")
	}
	dataOff := codeOff + uint32(len(code)+0xfff)&^0xfff
	var b bytes.Buffer
	le := binary.LittleEndian
	w := func(v ...any) {
		for _, x := range v {
			binary.Write(&b, le, x)
		}
	}
	b.Write([]byte{0x7f, 'E', 'L', 'F', 1, 1, 1, 0})
	b.Write(make([]byte, 8))
	w(uint16(2), uint16(3), uint32(1), uint32(CodeBase), uint32(ehdrSize), uint32(0), uint32(0),
		uint16(ehdrSize), uint16(phdrSize), uint16(nPhdr), uint16(40), uint16(0), uint16(0))
	// PT_NOTE, PT_LOAD code, PT_LOAD data
	w(uint32(4), uint32(noteOff), uint32(0), uint32(0), uint32(noteSize), uint32(noteSize), uint32(4), uint32(4))
	w(uint32(1), uint32(codeOff), uint32(CodeBase), uint32(CodeBase), uint32(len(code)), uint32(len(code)), uint32(5), uint32(0x1000))
	dataLen := uint32(len(p.data))
	w(uint32(1), dataOff, uint32(DataBase), uint32(DataBase), dataLen, dataLen+0x1000, uint32(6), uint32(0x1000))
	w(uint32(4), uint32(4), uint32(18))
	b.WriteString("Xen\x00")
	w(uint32(CodeBase))
	out := make([]byte, int(dataOff)+len(p.data))
	copy(out, b.Bytes())
	copy(out[codeOff:], code)
	copy(out[dataOff:], p.data)
	return out, nil
}
