package kernel

import (
	"fmt"
	"testing"
	"unsafe"

	"grove/hv/abi"
	"grove/x86"
)

// The kernel's copy of the vcpu_op context must be the bytes hv/abi decodes
// (the test may import hv/abi; the kernel package may not).
func TestVCPUContextMatchesABI(t *testing.T) {
	if got := unsafe.Sizeof(vcpuContext{}); got != abi.VCPUContextSize {
		t.Fatalf("vcpuContext is %d bytes, abi.VCPUContextSize %d", got, abi.VCPUContextSize)
	}
	if vcpuMode64 != abi.VCPUMode64 {
		t.Fatalf("vcpuMode64 %d, abi %d", vcpuMode64, abi.VCPUMode64)
	}
	long := apControl{
		cr0:  x86.CR0PE | x86.CR0PG | 1<<1 | 1<<5, // + MP, NE
		cr3:  0x10_2000,
		cr4:  x86.CR4PAE | 0x600, // + OSFXSR, OSXMMEXCPT
		efer: x86.EFERSCE | x86.EFERLME | x86.EFERLMA | x86.EFERNXE,
	}
	for _, tc := range []struct {
		entry, stack, fs uintptr
		idx              int
		cr               apControl
		bad              string // field abi's Validate names, "" = valid
	}{
		{0x21_0000, 0x80_0000, 0x30_0008, 1, long, ""},
		{0x23_4560, 0x7fff_f000, 0x31_0010, 7, long, ""},
		{0x21_0000, 0x80_0000, 0x30_0008, 1, apControl{cr0: x86.CR0PE, cr3: long.cr3, cr4: long.cr4, efer: long.efer}, "cr0"},
		{0x21_0000, 0x80_0000, 0x30_0008, 1, apControl{cr0: long.cr0, cr3: long.cr3, cr4: long.cr4, efer: x86.EFERSCE}, "efer"},
		{0x8000_0000_0000, 0x80_0000, 0x30_0008, 1, long, "rip"},
	} {
		t.Run(fmt.Sprintf("rip%#x/rsp%#x/cpu%d/cr0%#x/efer%#x", tc.entry, tc.stack, tc.idx, tc.cr.cr0, tc.cr.efer), func(t *testing.T) {
			var ctx vcpuContext
			ctx.setAPStart(tc.entry, tc.stack, tc.fs, tc.idx, tc.cr)
			b := unsafe.Slice((*byte)(unsafe.Pointer(&ctx)), unsafe.Sizeof(ctx))
			got, ok := abi.DecodeVCPUContext(b)
			if !ok {
				t.Fatal("abi cannot decode the context")
			}
			want := abi.VCPUContext{Mode: abi.VCPUMode64, RIP: uint64(tc.entry), RSP: uint64(tc.stack),
				RDI: uint64(tc.idx), RSI: uint64(tc.fs), RFLAGS: x86.RFLAGSMBS,
				CR0: tc.cr.cr0, CR3: tc.cr.cr3, CR4: tc.cr.cr4, EFER: tc.cr.efer, FSBase: uint64(tc.fs)}
			if got != want {
				t.Fatalf("abi decodes\n%+v\nwant\n%+v", got, want)
			}
			if field, err := got.Validate(); field != tc.bad {
				t.Fatalf("Validate: field %q (%v), want %q", field, err, tc.bad)
			}
		})
	}
}
