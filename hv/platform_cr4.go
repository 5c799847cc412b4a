package hv

import (
	"errors"
	"fmt"

	"grove/x86"
)

// CR4 of a PC-platform guest. Its CPUID hides features the processor has
// (XSAVE, LA57, VMX: platform_cpuid.go), and the processor would let the
// guest set their CR4 bits anyway; with CR4.OSXSAVE set, XSETBV would then
// change XCR0, which VMRUN does not switch, under the host and every other
// guest. So writes to CR4 are intercepted and checked as a processor with
// the guest's CPUID would check them (AMD APM vol. 2, 3.1.3; Intel SDM
// vol. 3, 2.5 and "MOV—Move to/from Control Registers"): a bit whose
// feature the guest does not see is reserved, and a reserved bit, clearing
// PAE in long mode, changing LA57 in long mode, or setting PCIDE outside
// long mode or with CR3[11:0] not zero raises #GP. No decode assists under
// QEMU (docs/qemu-tcg.md): the MOV is decoded from the guest's memory.

// CR4 bits beyond those in package x86, and what needs a CPUID feature.
const (
	cr4VME        = 1 << 0
	cr4PVI        = 1 << 1
	cr4TSD        = 1 << 2
	cr4DE         = 1 << 3
	cr4MCE        = 1 << 6
	cr4PCE        = 1 << 8
	cr4UMIP       = 1 << 11
	cr4FSGSBASE   = 1 << 16
	cr4PCIDE      = 1 << 17
	cr4SMEP       = 1 << 20
	cr4SMAP       = 1 << 21
	cr4PKE        = 1 << 22
	cr4CET        = 1 << 23
	cr4PKS        = 1 << 24
	cr4Always     = cr4VME | cr4PVI | cr4TSD | cr4DE | x86.CR4PSE | x86.CR4PAE | cr4MCE | x86.CR4PGE | cr4PCE | x86.CR4OSFXSR | x86.CR4OSXMMEXCPT
	cr4FlushTLB   = x86.CR4PSE | x86.CR4PAE | x86.CR4PGE | cr4PCIDE | cr4SMEP | cr4SMAP | cr4PKE // changes that flush the TLB
	cpuid7ECXUMIP = 1 << 2
	cpuid7ECXPKU  = 1 << 3
	cpuid7ECXCET  = 1 << 7
	cpuid7ECXPKS  = 1 << 31
	cpuid7EBXFSGS = 1 << 0
	cpuid7EBXSMEP = 1 << 7
	cpuid7EBXSMAP = 1 << 20
	cpuid1ECXPCID = 1 << 17
	cpuid1ECXXSAV = 1 << 26
)

// cr4Allowed is the set of CR4 bits a guest with v's CPUID may set.
func cr4Allowed(v *VCPU) uint64 {
	cpuid := func(leaf uint32) (uint32, uint32, uint32, uint32) {
		a, b, c, d := guestCPUID(leaf, 0)
		return pcCPUID(v, leaf, a, b, c, d)
	}
	ok := uint64(cr4Always)
	_, _, c1, _ := cpuid(1)
	_, b7, c7, _ := cpuid(7)
	for _, f := range []struct {
		has bool
		bit uint64
	}{
		{c7&cpuid7ECXUMIP != 0, cr4UMIP}, {c7&cpuid7ECXLA57 != 0, x86.CR4LA57}, {b7&cpuid7EBXFSGS != 0, cr4FSGSBASE},
		{c1&cpuid1ECXPCID != 0, cr4PCIDE}, {c1&cpuid1ECXXSAV != 0, x86.CR4OSXSAVE}, {b7&cpuid7EBXSMEP != 0, cr4SMEP},
		{b7&cpuid7EBXSMAP != 0, cr4SMAP}, {c7&cpuid7ECXPKU != 0, cr4PKE}, {c7&cpuid7ECXCET != 0, cr4CET},
		{c7&cpuid7ECXPKS != 0, cr4PKS},
	} {
		if f.has {
			ok |= f.bit
		}
	}
	return ok
}

// exitCR4Write carries out a MOV to CR4, or raises #GP where the processor
// the guest sees would.
func exitCR4Write(v *VCPU, x *exitState) outcome {
	code, err := fetchInsn(v, x)
	if err != nil {
		return crash(fmt.Sprintf("CR4 write at rip=%#x: cannot read the instruction: %v", x.rip, err))
	}
	n, gpr, err := decodeMovToCR4(code, x.mode)
	if err != nil {
		return crash(fmt.Sprintf("CR4 write at rip=%#x: %v", x.rip, err))
	}
	val := mmioRegs{v, x}.GPR(gpr)
	if x.mode != 64 {
		val = uint64(uint32(val))
	}
	if !cr4Valid(val, x.cr4, x.efer, x.cr3, cr4Allowed(v)) {
		return injectGP(v, x)
	}
	if (val^x.cr4)&cr4FlushTLB != 0 {
		v.flushTLB = true
	}
	x.cr4 = val
	x.advance(uint64(n))
	return resume
}

// cr4Valid applies MOV to CR4's checks to the value new, replacing old.
func cr4Valid(new, old, efer, cr3, allowed uint64) bool {
	long := efer&x86.EFERLMA != 0
	switch {
	case new&^allowed != 0:
		return false
	case long && new&x86.CR4PAE == 0:
		return false
	case long && (new^old)&x86.CR4LA57 != 0:
		return false
	case new&^old&cr4PCIDE != 0 && (!long || cr3&0xfff != 0):
		return false
	}
	return true
}

var errNotMovCR4 = errors.New("not a MOV to CR4")

// decodeMovToCR4 decodes MOV CR4, r (0F 22 /r, ModRM.reg = 4) after any
// legacy prefixes and, in 64-bit mode, a REX prefix (REX.B extends the
// register; REX.R would name CR12). It returns the instruction's length
// and the source register's number.
func decodeMovToCR4(code []byte, mode int) (int, int, error) {
	i, rex := 0, byte(0)
	for i < len(code) && isLegacyPrefix(code[i]) {
		i++
	}
	if mode == 64 && i < len(code) && code[i]&0xf0 == 0x40 {
		rex = code[i]
		i++
	}
	if i+3 > len(code) || code[i] != 0x0f || code[i+1] != 0x22 {
		return 0, 0, fmt.Errorf("%w: % x", errNotMovCR4, code[:min(len(code), i+3)])
	}
	modrm := code[i+2]
	if modrm>>3&7 != 4 || rex&0x4 != 0 {
		return 0, 0, fmt.Errorf("%w: % x", errNotMovCR4, code[:i+3])
	}
	return i + 3, int(modrm&7) | int(rex&1)<<3, nil
}

func isLegacyPrefix(b byte) bool {
	switch b {
	case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3:
		return true
	}
	return false
}
