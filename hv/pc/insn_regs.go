package pc

import "golang.org/x/arch/x86/x86asm"

// Sized access to the general registers, with the x86-64 rules (AMD APM
// vol. 1, 3.1.2.3): a 32-bit write zero-extends into the whole 64-bit
// register, 8- and 16-bit writes leave the other bits alone, and AH, CH,
// DH, BH are bits 15:8 of RAX, RCX, RDX, RBX (only without a REX prefix;
// with one, the same encodings are SPL, BPL, SIL, DIL, which x86asm names
// SPB..DIB).

// gprOf returns the register number (as Regs numbers them), width in
// bytes and bit offset of r, ok false if r is not a general register.
func gprOf(r x86asm.Reg) (i, size int, shift uint, ok bool) {
	switch {
	case r >= x86asm.AH && r <= x86asm.BH:
		return int(r - x86asm.AH), 1, 8, true
	case r >= x86asm.AL && r <= x86asm.R15B:
		i := int(r - x86asm.AL)
		if r >= x86asm.SPB {
			i -= 4 // SPB follows BH, but is register 4
		}
		return i, 1, 0, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return int(r - x86asm.AX), 2, 0, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return int(r - x86asm.EAX), 4, 0, true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return int(r - x86asm.RAX), 8, 0, true
	}
	return 0, 0, 0, false
}

// getReg returns r's value, zero-extended.
func getReg(regs Regs, r x86asm.Reg) uint64 {
	i, size, shift, _ := gprOf(r)
	return regs.GPR(i) >> shift & sizeMask(size)
}

// setReg writes v (truncated to r's width) to r.
func setReg(regs Regs, r x86asm.Reg, v uint64) {
	i, size, shift, _ := gprOf(r)
	switch size {
	case 8:
		regs.SetGPR(i, v)
	case 4:
		regs.SetGPR(i, v&0xFFFFFFFF)
	default:
		m := sizeMask(size) << shift
		regs.SetGPR(i, regs.GPR(i)&^m|v<<shift&m)
	}
}
