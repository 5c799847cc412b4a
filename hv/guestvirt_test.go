package hv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"unsafe"

	"grove/hv/svm"
	"grove/x86"
	"grove/x86/paging"
)

// VMCB save-area offsets of the registers translate reads (APM table B-2).
const (
	tEFER = 0x4d0
	tCR4  = 0x548
	tCR3  = 0x550
	tCR0  = 0x558
)

// copyVCPU is a vCPU whose VMCB page and 2 MiB of RAM are mmap'd outside the
// Go heap, as the real ones are identity-mapped kernel pages.
func copyVCPU(t *testing.T) (*VCPU, []byte) {
	t.Helper()
	mem, err := syscall.Mmap(-1, 0, pageSize+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	base := uintptr(unsafe.Pointer(&mem[0]))
	d := &Domain{ID: 1, Name: "copy", ram: &guestRAM{size: hugePage, chunks: []uintptr{base + pageSize}}}
	return &VCPU{dom: d, vmcb: svm.VMCB{PA: base}}, mem[pageSize:]
}

// Long-mode tables: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. Guest
// page 0x40_0000 is at 0x10_0000 and the next one at 0x18_0000, so a copy
// across the boundary is split; 0x40_2000 is not present; PML4[1] points
// outside RAM.
func longModeTables(ram []byte) {
	put := func(pa, v uint64) { binary.LittleEndian.PutUint64(ram[pa:], v) }
	put(0x1000, 0x2000|paging.P)
	put(0x1008, 0x4000_0000|paging.P)
	put(0x2000, 0x3000|paging.P)
	put(0x3000+2*8, 0x4000|paging.P)
	put(0x4000, 0x10_0000|paging.P)
	put(0x4008, 0x18_0000|paging.P|paging.NX)
}

func TestCopyLongMode(t *testing.T) {
	v, ram := copyVCPU(t)
	longModeTables(ram)
	v.vmcb.Set(tCR0, x86.CR0PG|x86.CR0PE)
	v.vmcb.Set(tCR3, 0x1000)
	v.vmcb.Set(tCR4, x86.CR4PAE)
	v.vmcb.Set(tEFER, x86.EFERLME|x86.EFERLMA|x86.EFERSVME)
	copy(ram[0x10_0ff8:], "01234567")
	copy(ram[0x18_0000:], "89abcdef")
	got, err := v.copyIn(0x40_0ff8, 16)
	if err != nil || string(got) != "0123456789abcdef" {
		t.Fatalf("copyIn across pages = %q, %v", got, err)
	}
	if err := v.copyOut(0x40_0ffc, []byte("WXYZwxyz")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ram[0x10_0ffc:0x10_1000], []byte("WXYZ")) || !bytes.Equal(ram[0x18_0000:0x18_0004], []byte("wxyz")) {
		t.Fatal("copyOut did not split at the page boundary")
	}
	for _, gva := range []uint64{0x40_1ffc, 0x40_2000, 0x80_0000_0000, 0x8000_0000_0000} {
		t.Run(fmt.Sprintf("fault/gva=%#x", gva), func(t *testing.T) {
			if _, err := v.copyIn(gva, 8); !errors.Is(err, errFault) {
				t.Fatalf("copyIn = %v, want EFAULT", err)
			}
			if err := v.copyOut(gva, make([]byte, 8)); !errors.Is(err, errFault) {
				t.Fatalf("copyOut = %v, want EFAULT", err)
			}
		})
	}
}

// A PAE guest's PDPT need only be 32-byte aligned; with paging off a
// pointer is a 32-bit physical address.
func TestCopyPAEAndFlat(t *testing.T) {
	v, ram := copyVCPU(t)
	put := func(pa, v uint64) { binary.LittleEndian.PutUint64(ram[pa:], v) }
	put(0x1060, 0x2000|paging.P)
	put(0x2000+8, 0x60_0000|paging.P|paging.PS) // 2 MiB page at 6 MiB: outside RAM
	put(0x2000+16, 0x3000|paging.P)
	put(0x3000+5*8, 0x7000|paging.P)
	copy(ram[0x7123:], "pae!")
	copy(ram[0x5123:], "flat")
	v.vmcb.Set(tCR0, x86.CR0PG|x86.CR0PE)
	v.vmcb.Set(tCR3, 0x1060)
	v.vmcb.Set(tCR4, x86.CR4PAE)
	if got, err := v.copyIn(0x40_5123, 4); err != nil || string(got) != "pae!" {
		t.Fatalf("PAE copyIn = %q, %v", got, err)
	}
	if _, err := v.copyIn(0x20_0000, 4); !errors.Is(err, errFault) {
		t.Fatalf("PAE copyIn from a 2 MiB page outside RAM = %v, want EFAULT", err)
	}
	v.vmcb.Set(tCR0, x86.CR0PE)
	if got, err := v.copyIn(0x1_0000_5123, 4); err != nil || string(got) != "flat" {
		t.Fatalf("flat copyIn = %q, %v", got, err)
	}
}
