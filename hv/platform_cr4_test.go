package hv

import (
	"fmt"
	"testing"

	"grove/hv/svm"
	"grove/x86"
)

func TestDecodeMovToCR4(t *testing.T) {
	for _, tc := range []struct {
		code    []byte
		mode    int
		n, gpr  int
		refused bool
	}{
		{[]byte{0x0f, 0x22, 0xe0}, 64, 3, 0, false},                        // mov cr4, rax
		{[]byte{0x0f, 0x22, 0xe7}, 32, 3, 7, false},                        // mov cr4, edi
		{[]byte{0x41, 0x0f, 0x22, 0xe1}, 64, 4, 9, false},                  // mov cr4, r9
		{[]byte{0x66, 0x0f, 0x22, 0xe3}, 16, 4, 3, false},                  // prefixed
		{[]byte{0x41, 0x0f, 0x22, 0xe1}, 32, 0, 0, true},                   // 0x41 is INC ECX outside 64-bit mode
		{[]byte{0x44, 0x0f, 0x22, 0xe0}, 64, 0, 0, true},                   // REX.R: CR12
		{[]byte{0x0f, 0x22, 0xd8}, 64, 0, 0, true},                         // mov cr3, rax
		{[]byte{0x0f, 0x20, 0xe0}, 64, 0, 0, true},                         // mov rax, cr4
		{[]byte{0x0f, 0x22}, 64, 0, 0, true},                               // cut short
		{[]byte{0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66}, 64, 0, 0, true}, // prefixes only
	} {
		t.Run(fmt.Sprintf("% x-%d", tc.code, tc.mode), func(t *testing.T) {
			n, gpr, err := decodeMovToCR4(tc.code, tc.mode)
			if tc.refused != (err != nil) || !tc.refused && (n != tc.n || gpr != tc.gpr) {
				t.Errorf("got %d, %d, %v", n, gpr, err)
			}
		})
	}
}

func TestCR4Valid(t *testing.T) {
	const allowed = cr4Always | cr4PCIDE | cr4SMEP
	long := uint64(x86.EFERLMA | x86.EFERLME)
	pae := uint64(x86.CR4PAE)
	for _, tc := range []struct {
		name                string
		new, old, efer, cr3 uint64
		want                bool
	}{
		{"pge", x86.CR4PGE | pae, pae, long, 0, true},
		{"osxsave-hidden", x86.CR4OSXSAVE, 0, 0, 0, false},
		{"la57-hidden", x86.CR4LA57 | pae, pae, 0, 0, false},
		{"reserved-15", 1 << 15, 0, 0, 0, false},
		{"high-half", 1 << 32, 0, 0, 0, false},
		{"clear-pae-long", 0, pae, long, 0, false},
		{"clear-pae-legacy", 0, pae, 0, 0, true},
		{"pcide-long", pae | cr4PCIDE, pae, long, 0x1000, true},
		{"pcide-legacy", pae | cr4PCIDE, pae, 0, 0x1000, false},
		{"pcide-cr3-low", pae | cr4PCIDE, pae, long, 0x1001, false},
		{"pcide-kept", pae | cr4PCIDE, pae | cr4PCIDE, long, 0x1001, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cr4Valid(tc.new, tc.old, tc.efer, tc.cr3, allowed); got != tc.want {
				t.Errorf("cr4Valid = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestExitCR4Write: a PC guest's MOV to CR4 is carried out (RIP past it,
// a TLB flush asked for a PGE change) unless its CPUID hides the feature,
// which raises #GP as on a processor without it (kvm-unit-tests' xsave:
// "Set CR4.OSXSAVE without XSAVE - expect #GP").
func TestExitCR4Write(t *testing.T) {
	for _, tc := range []struct {
		name  string
		val   uint64
		gp    bool
		flush bool
	}{
		{"pge", x86.CR4PGE | x86.CR4PAE, false, true},
		{"osfxsr", x86.CR4OSFXSR | x86.CR4PAE, false, false},
		{"osxsave", x86.CR4OSXSAVE | x86.CR4PAE, true, false},
		{"la57", x86.CR4LA57 | x86.CR4PAE, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, m := fakeVCPU(t, false)
			v.dom.pc = &platform{}
			v.dom.vcpus = []*VCPU{v}
			copy(m.b[0x1000:], []byte{0x48, 0x0f, 0x22, 0xe3}) // mov cr4, rbx (REX.W)
			v.regs.RBX = tc.val
			x := exitState{code: svm.ExitCR4Write, rip: 0x1000, mode: 64, cr4: x86.CR4PAE,
				efer: x86.EFERLMA | x86.EFERLME}
			if out := handleExit(v, &x); out != resume {
				t.Fatalf("outcome %v", out)
			}
			switch {
			case tc.gp && (x.inject != svm.Exception(x86.VecGP, true, 0) || x.cr4 != x86.CR4PAE || x.rip != 0x1000):
				t.Errorf("inject %#x cr4 %#x rip %#x, want #GP with CR4 and RIP unchanged", x.inject, x.cr4, x.rip)
			case !tc.gp && (x.inject != 0 || x.cr4 != tc.val || x.rip != 0x1004 || v.flushTLB != tc.flush):
				t.Errorf("inject %#x cr4 %#x rip %#x flush %v", x.inject, x.cr4, x.rip, v.flushTLB)
			}
		})
	}
}
