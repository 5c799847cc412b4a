// Package asm builds Grove's tiny test guests: 32-bit protected-mode
// programs (the PVH entry state: paging off, flat segments) assembled from a
// handful of hand-encoded instructions and wrapped in a PVH ELF. They drive
// specific exits -- port I/O, CPUID, hypercalls with good and bad arguments,
// unmapped memory, triple faults -- and are small enough to read in full.
// No assembler for 32-bit code is available to the build (the Go assembler
// targets the host), hence the encoder.
package asm

import "encoding/binary"

// Load addresses of every guest: code at 1 MiB, data right after.
const (
	CodeBase = 0x100000
	DataBase = 0x108000
	StackTop = 0x9f000
)

// Prog is a program under construction.
type Prog struct {
	code   []byte
	labels map[string]int
	fixups []fixup
	data   []byte
}

type fixup struct {
	at    int // offset of the rel32 (or abs32)
	label string
	abs   bool // the label's absolute address, not relative
}

// New starts a program; the stack pointer is set first.
func New() *Prog {
	p := &Prog{labels: map[string]int{}}
	p.emit(0xbc).imm32(StackTop) // mov esp, StackTop
	return p
}

func (p *Prog) emit(b ...byte) *Prog { p.code = append(p.code, b...); return p }

func (p *Prog) imm32(v uint32) *Prog {
	p.code = binary.LittleEndian.AppendUint32(p.code, v)
	return p
}

// Register numbers in ModRM/opcode encoding.
const (
	EAX = 0
	ECX = 1
	EDX = 2
	EBX = 3
	ESP = 4
	EBP = 5
	ESI = 6
	EDI = 7
)

// Label marks the current position.
func (p *Prog) Label(name string) *Prog { p.labels[name] = len(p.code); return p }

// Mov sets reg to v.
func (p *Prog) Mov(reg int, v uint32) *Prog { return p.emit(0xb8 + byte(reg)).imm32(v) }

// MovRR copies src into dst.
func (p *Prog) MovRR(dst, src int) *Prog { return p.emit(0x89, 0xc0|byte(src)<<3|byte(dst)) }

// Load reads the 32-bit word at addr into EAX; Store writes EAX there.
func (p *Prog) Load(addr uint32) *Prog  { return p.emit(0xa1).imm32(addr) }
func (p *Prog) Store(addr uint32) *Prog { return p.emit(0xa3).imm32(addr) }

// LoadByte reads the byte at [reg] into AL (movzx eax, byte [reg]).
func (p *Prog) LoadByte(reg int) *Prog { return p.emit(0x0f, 0xb6, byte(reg)) }

// Inc and Dec adjust a register by one.
func (p *Prog) Inc(reg int) *Prog { return p.emit(0x40 + byte(reg)) }
func (p *Prog) Dec(reg int) *Prog { return p.emit(0x48 + byte(reg)) }

// AddImm adds v to reg; AndImm, XorRR, ShlImm, ShrImm as named.
func (p *Prog) AddImm(reg int, v uint32) *Prog { return p.emit(0x81, 0xc0|byte(reg)).imm32(v) }
func (p *Prog) AndImm(reg int, v uint32) *Prog { return p.emit(0x81, 0xe0|byte(reg)).imm32(v) }
func (p *Prog) XorRR(dst, src int) *Prog       { return p.emit(0x31, 0xc0|byte(src)<<3|byte(dst)) }
func (p *Prog) ShlImm(reg int, n byte) *Prog   { return p.emit(0xc1, 0xe0|byte(reg), n) }
func (p *Prog) ShrImm(reg int, n byte) *Prog   { return p.emit(0xc1, 0xe8|byte(reg), n) }

// RolImm rotates reg left by n.
func (p *Prog) RolImm(reg int, n byte) *Prog { return p.emit(0xc1, 0xc0|byte(reg), n) }

// LoadTableByte does movzx ebx, byte [ebx+table].
func (p *Prog) LoadTableByte(table uint32) *Prog { return p.emit(0x0f, 0xb6, 0x9b).imm32(table) }

// StoreBL does mov [edi], bl.
func (p *Prog) StoreBL() *Prog { return p.emit(0x88, 0x1f) }

// StoreReg does mov [addr], reg.
func (p *Prog) StoreReg(addr uint32, reg int) *Prog {
	return p.emit(0x89, 0x05|byte(reg)<<3).imm32(addr)
}

// TestRR sets flags from dst & src.
func (p *Prog) TestRR(dst, src int) *Prog { return p.emit(0x85, 0xc0|byte(src)<<3|byte(dst)) }

// CmpImm compares reg with v.
func (p *Prog) CmpImm(reg int, v uint32) *Prog { return p.emit(0x81, 0xf8|byte(reg)).imm32(v) }

// OutAL writes AL to port (DX is loaded first).
func (p *Prog) OutAL(port uint16) *Prog {
	return p.emit(0x66, 0xba, byte(port), byte(port>>8), 0xee) // mov dx, port; out dx, al
}

// InAL reads port into AL.
func (p *Prog) InAL(port uint16) *Prog {
	return p.emit(0x66, 0xba, byte(port), byte(port>>8), 0xec) // mov dx, port; in al, dx
}

// OutAX and OutEAX write AX or EAX to port; InEAX reads EAX from it.
func (p *Prog) OutAX(port uint16) *Prog {
	return p.emit(0x66, 0xba, byte(port), byte(port>>8), 0x66, 0xef) // mov dx, port; out dx, ax
}
func (p *Prog) OutEAX(port uint16) *Prog {
	return p.emit(0x66, 0xba, byte(port), byte(port>>8), 0xef) // mov dx, port; out dx, eax
}
func (p *Prog) InEAX(port uint16) *Prog {
	return p.emit(0x66, 0xba, byte(port), byte(port>>8), 0xed) // mov dx, port; in eax, dx
}

// LoadDisp reads the 32-bit word at [base+disp] into dst (base is not
// ESP, whose encoding needs a SIB byte).
func (p *Prog) LoadDisp(dst, base int, disp int8) *Prog {
	return p.emit(0x8b, 0x40|byte(dst)<<3|byte(base), byte(disp))
}

// CmpRR compares dst with src.
func (p *Prog) CmpRR(dst, src int) *Prog { return p.emit(0x39, 0xc0|byte(src)<<3|byte(dst)) }

// RDTSC reads the time-stamp counter into EDX:EAX.
func (p *Prog) RDTSC() *Prog { return p.emit(0x0f, 0x31) }

// SubEAXMem and SbbEDXMem subtract [addr] from EAX and (with borrow) EDX.
func (p *Prog) SubEAXMem(addr uint32) *Prog { return p.emit(0x2b, 0x05).imm32(addr) }
func (p *Prog) SbbEDXMem(addr uint32) *Prog { return p.emit(0x1b, 0x15).imm32(addr) }

// CPUID, VMMCALL, HLT, UD2, CLI, STI are single instructions.
func (p *Prog) CPUID() *Prog   { return p.emit(0x0f, 0xa2) }
func (p *Prog) VMMCALL() *Prog { return p.emit(0x0f, 0x01, 0xd9) }
func (p *Prog) HLT() *Prog     { return p.emit(0xf4) }
func (p *Prog) UD2() *Prog     { return p.emit(0x0f, 0x0b) }
func (p *Prog) CLI() *Prog     { return p.emit(0xfa) }
func (p *Prog) STI() *Prog     { return p.emit(0xfb) }

// Jmp, Jz, Jnz, Jb jump to a label (rel32, resolved at Build).
func (p *Prog) Jmp(l string) *Prog { return p.emit(0xe9).rel(l) }
func (p *Prog) Jz(l string) *Prog  { return p.emit(0x0f, 0x84).rel(l) }
func (p *Prog) Jnz(l string) *Prog { return p.emit(0x0f, 0x85).rel(l) }
func (p *Prog) Jb(l string) *Prog  { return p.emit(0x0f, 0x82).rel(l) }

func (p *Prog) rel(l string) *Prog {
	p.fixups = append(p.fixups, fixup{at: len(p.code), label: l})
	return p.imm32(0)
}

// TripleFault loads an empty IDT and raises an exception: with no handler
// the CPU shuts down.
func (p *Prog) TripleFault() *Prog {
	addr := p.Data(make([]byte, 8))
	return p.emit(0x0f, 0x01, 0x1d).imm32(addr).emit(0xcc) // lidt [addr]; int3
}

// Data appends bytes to the data area and returns their guest address.
func (p *Prog) Data(b []byte) uint32 {
	a := DataBase + uint32(len(p.data))
	p.data = append(p.data, b...)
	for len(p.data)%4 != 0 {
		p.data = append(p.data, 0)
	}
	return a
}

// Code returns the assembled code with labels resolved.
func (p *Prog) Code() ([]byte, error) {
	for _, f := range p.fixups {
		at, ok := p.labels[f.label]
		if !ok {
			return nil, errUndefined(f.label)
		}
		v := uint32(at - (f.at + 4))
		if f.abs {
			v = CodeBase + uint32(at)
		}
		binary.LittleEndian.PutUint32(p.code[f.at:], v)
	}
	return p.code, nil
}

type errUndefined string

func (e errUndefined) Error() string { return "asm: undefined label " + string(e) }
