package asm

// Instructions whose encoding is the same in 32-bit protected mode and in
// 64-bit mode, for code that both vCPUs of a guest run (vCPU 0 starts in
// protected mode, the others in long mode: hv/abi/vcpu.go). Memory operands
// are [base+disp32] (ModRM mod=10; no SIB, so base is not ESP); Load and
// Store's moffs forms and the one-byte INC/DEC (REX prefixes in 64-bit mode)
// are not. Intel SDM vol. 2, 2.1.5 (ModRM) and 2.2.1 (REX).

// modrmDisp emits opcode op, then ModRM mod=10 with reg and base, then disp.
func (p *Prog) modrmDisp(reg, base int, disp uint32, op ...byte) *Prog {
	return p.emit(op...).emit(0x80 | byte(reg)<<3 | byte(base)).imm32(disp)
}

// LoadAt does mov dst, [base+disp]; StoreAt mov [base+disp], src.
func (p *Prog) LoadAt(dst, base int, disp uint32) *Prog { return p.modrmDisp(dst, base, disp, 0x8b) }
func (p *Prog) StoreAt(base int, disp uint32, src int) *Prog {
	return p.modrmDisp(src, base, disp, 0x89)
}

// IncAt does inc dword [base+disp] (FF /0).
func (p *Prog) IncAt(base int, disp uint32) *Prog { return p.modrmDisp(0, base, disp, 0xff) }

// AddAt, SubAt and CmpAt do add, sub and cmp reg, [base+disp].
func (p *Prog) AddAt(reg, base int, disp uint32) *Prog { return p.modrmDisp(reg, base, disp, 0x03) }
func (p *Prog) SubAt(reg, base int, disp uint32) *Prog { return p.modrmDisp(reg, base, disp, 0x2b) }
func (p *Prog) CmpAt(reg, base int, disp uint32) *Prog { return p.modrmDisp(reg, base, disp, 0x3b) }

// SetAt does mov dword [base+disp], v (C7 /0).
func (p *Prog) SetAt(base int, disp, v uint32) *Prog {
	return p.modrmDisp(0, base, disp, 0xc7).imm32(v)
}

// CmpAtImm does cmp dword [base+disp], v (81 /7).
func (p *Prog) CmpAtImm(base int, disp, v uint32) *Prog {
	return p.modrmDisp(7, base, disp, 0x81).imm32(v)
}

// SubRR does sub dst, src.
func (p *Prog) SubRR(dst, src int) *Prog { return p.emit(0x29, 0xc0|byte(src)<<3|byte(dst)) }

// ShrdImm does shrd dst, src, n: dst takes n bits from src's low end.
func (p *Prog) ShrdImm(dst, src int, n byte) *Prog {
	return p.emit(0x0f, 0xac, 0xc0|byte(src)<<3|byte(dst), n)
}

// IMulImm does imul reg, reg, v.
func (p *Prog) IMulImm(reg int, v uint32) *Prog {
	return p.emit(0x69, 0xc0|byte(reg)<<3|byte(reg)).imm32(v)
}

// PutEDI stores the bytes of s at EDI and advances it (32-bit code).
func (p *Prog) PutEDI(s string) *Prog {
	for _, c := range []byte(s) {
		p.emit(0xc6, 0x07, c).Inc(EDI) // mov byte [edi], c
	}
	return p
}

// Jae, Jbe, Ja and Js jump to a label if unsigned above or equal, below or
// equal, above, or if negative.
func (p *Prog) Jae(l string) *Prog { return p.emit(0x0f, 0x83).rel(l) }
func (p *Prog) Jbe(l string) *Prog { return p.emit(0x0f, 0x86).rel(l) }
func (p *Prog) Ja(l string) *Prog  { return p.emit(0x0f, 0x87).rel(l) }
func (p *Prog) Js(l string) *Prog  { return p.emit(0x0f, 0x88).rel(l) }

// MovLabel sets reg to the absolute address of label l.
func (p *Prog) MovLabel(reg int, l string) *Prog {
	p.emit(0xb8 + byte(reg))
	p.fixups = append(p.fixups, fixup{at: len(p.code), label: l, abs: true})
	return p.imm32(0)
}

// Page appends b to the data area at a 4 KiB boundary (page tables) and
// returns its guest address.
func (p *Prog) Page(b []byte) uint32 {
	for len(p.data)%4096 != 0 {
		p.data = append(p.data, 0)
	}
	return p.Data(b)
}
