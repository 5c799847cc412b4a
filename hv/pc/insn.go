package pc

import (
	"errors"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// Decoding the instruction behind an MMIO nested page fault. Without
// decode assists (TCG has none) the NPF exit gives only the guest-physical
// address, so the hypervisor fetches the bytes at the guest's RIP and this
// file says what they do: which way, how many bytes, to or from which
// register, and how long the instruction is (there is no NRIPS either).
// Only the moves guests use for device registers are taken (MOV in every
// form, MOVZX, MOVSX, MOVSXD, MOVNTI, XCHG); anything else is an error
// naming the instruction, for the hypervisor to crash the domain with.

// ErrMMIOInstruction is wrapped by every error of DecodeMMIO.
var ErrMMIOInstruction = errors.New("mmio: cannot emulate instruction")

// Regs is the faulting vCPU's general registers, numbered as the
// instruction encoding numbers them (ModRM.reg plus REX.R): 0 RAX, 1 RCX,
// 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15. The emulator
// reads and writes whole registers and does the sizing itself.
type Regs interface {
	GPR(i int) uint64
	SetGPR(i int, v uint64)
}

// extension says how a load narrower than its register widens.
type extension uint8

const (
	extNone extension = iota // MOV: the register is as wide as the access
	extZero
	extSign
)

// MMIOAccess is what one instruction does to memory.
type MMIOAccess struct {
	Inst  x86asm.Inst
	Len   int  // instruction length: the guest resumes at RIP+Len
	Size  int  // bytes accessed: 1, 2, 4 or 8
	Read  bool // the instruction reads memory (XCHG does both)
	Write bool // the instruction writes memory

	reg x86asm.Reg // the register operand, 0 for an immediate
	imm uint64     // the immediate stored, if reg is 0
	ext extension
}

// DecodeMMIO decodes the instruction in code (up to 15 bytes from the
// guest's RIP; fewer if the fetch stopped at an unmapped page) in the CPU
// mode given in bits (16, 32 or 64).
func DecodeMMIO(code []byte, mode int) (MMIOAccess, error) {
	if mode != 16 && mode != 32 && mode != 64 {
		return MMIOAccess{}, fmt.Errorf("%w: bad CPU mode %d", ErrMMIOInstruction, mode)
	}
	inst, err := decode(code, mode)
	if err == nil && inst.Op == 0 {
		// x86asm's answer to bytes that end mid-instruction: the first
		// byte alone, as a prefix.
		err = x86asm.ErrTruncated
	}
	if err != nil {
		return MMIOAccess{}, fmt.Errorf("%w % x: %v", ErrMMIOInstruction, code[:min(len(code), 15)], err)
	}
	a := MMIOAccess{Inst: inst, Len: inst.Len, Size: inst.MemBytes}
	if err := a.operands(); err != nil {
		return MMIOAccess{}, fmt.Errorf("%w %v (% x): %s", ErrMMIOInstruction, inst, code[:inst.Len], err)
	}
	return a, nil
}

// decode is x86asm.Decode, with a panic made an error: the bytes are the
// guest's, and a decoder bug (x86asm v0.31 indexed past truncated VEX
// prefixes, golang/go#81447) must crash that domain, not the hypervisor.
func decode(code []byte, mode int) (inst x86asm.Inst, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return x86asm.Decode(code, mode)
}

// operands fills in the access from the decoded instruction, or says why
// it is not one this emulator takes.
func (a *MMIOAccess) operands() error {
	args := a.Inst.Args
	if a.Inst.Op == x86asm.MOVSD || a.Inst.Op == x86asm.MOVSB ||
		a.Inst.Op == x86asm.MOVSW || a.Inst.Op == x86asm.MOVSQ {
		return errors.New("string moves are not emulated")
	}
	_, mem0 := args[0].(x86asm.Mem)
	_, mem1 := args[1].(x86asm.Mem)
	if mem0 == mem1 || args[2] != nil {
		return errors.New("not one memory and one other operand")
	}
	switch a.Inst.Op {
	case x86asm.MOV, x86asm.MOVNTI:
		if mem0 {
			a.Write = true
			return a.source(args[1])
		}
		a.Read = true
	case x86asm.MOVZX:
		a.Read, a.ext = true, extZero
	case x86asm.MOVSX, x86asm.MOVSXD:
		a.Read, a.ext = true, extSign
	case x86asm.XCHG:
		a.Read, a.Write = true, true
		if mem1 {
			return a.register(args[0])
		}
		return a.register(args[1])
	default:
		return errors.New("not a move")
	}
	if !mem1 {
		return errors.New("load into memory")
	}
	return a.register(args[0])
}

// source takes a store's source: a register or an immediate.
func (a *MMIOAccess) source(arg x86asm.Arg) error {
	if imm, ok := arg.(x86asm.Imm); ok {
		a.imm = uint64(imm) & sizeMask(a.Size)
		return a.checkSize()
	}
	return a.register(arg)
}

// register takes the register operand: a general register whose width is
// the access's, or at least that for an extending load.
func (a *MMIOAccess) register(arg x86asm.Arg) error {
	r, ok := arg.(x86asm.Reg)
	if !ok {
		return errors.New("operand is not a register")
	}
	_, size, _, ok := gprOf(r)
	if !ok {
		return fmt.Errorf("%v is not a general register", r)
	}
	if a.ext == extNone && size != a.Size || size < a.Size {
		return fmt.Errorf("%d-byte register for a %d-byte access", size, a.Size)
	}
	a.reg = r
	return a.checkSize()
}

func (a *MMIOAccess) checkSize() error {
	switch a.Size {
	case 1, 2, 4, 8:
		return nil
	}
	return fmt.Errorf("%d-byte memory access", a.Size)
}

// Do carries the access out: dev(write, size, val) reaches the device at
// the faulting address and returns what it reads (its result is ignored
// for a write). XCHG reads, then writes the register's old value.
func (a *MMIOAccess) Do(regs Regs, dev func(write bool, size int, val uint64) uint64) {
	var old uint64
	if a.Read {
		old = dev(false, a.Size, 0) & sizeMask(a.Size)
	}
	if a.Write {
		v := a.imm
		if a.reg != 0 {
			v = getReg(regs, a.reg) & sizeMask(a.Size)
		}
		dev(true, a.Size, v)
	}
	if a.Read {
		if a.ext == extSign {
			old = signExtend(old, a.Size)
		}
		setReg(regs, a.reg, old)
	}
}

// EmulateMMIO decodes the instruction in code and carries it out; the
// caller adds length to the guest's RIP. On error nothing was done.
func EmulateMMIO(code []byte, mode int, regs Regs, dev func(write bool, size int, val uint64) uint64) (length int, err error) {
	a, err := DecodeMMIO(code, mode)
	if err != nil {
		return 0, err
	}
	a.Do(regs, dev)
	return a.Len, nil
}

func sizeMask(size int) uint64 { return 1<<(8*size) - 1 }

func signExtend(v uint64, size int) uint64 {
	shift := 64 - 8*size
	return uint64(int64(v<<shift) >> shift)
}
