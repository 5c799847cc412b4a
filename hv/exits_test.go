package hv

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"grove/boot/guest"
	"grove/guests/asm"
	"grove/hv/abi"
	"grove/hv/svm"
)

// Exit handling is decided in plain Go: these tests build made-up exits in a
// VMCB that is ordinary memory and check the outcome, with no hardware.

func fakeVCPU(t *testing.T) *VCPU {
	t.Helper()
	// Outside the Go heap, like a real VMCB page (checkptr would object).
	page, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(page) })
	pa := uintptr(unsafe.Pointer(&page[0]))
	ram, err := syscall.Mmap(-1, 0, 2*hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(ram) })
	d := &Domain{ID: 3, Name: "test", ram: &guestRAM{size: hugePage,
		chunks: []uintptr{uintptr(unsafe.Pointer(&ram[0]))}}}
	return &VCPU{dom: d, vmcb: svm.VMCB{PA: pa}}
}

// Offsets used to fabricate exits (APM table B-1/B-2).
const (
	tExitCode  = 0x070
	tExitInfo1 = 0x078
	tExitInfo2 = 0x080
	tRIP       = 0x578
	tRAX       = 0x5f8
)

func TestExitOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    uint64
		setup   func(v *VCPU)
		want    outcome
		wantWhy string
		wantRIP uint64
	}{
		{"cpuid", svm.ExitCPUID, func(v *VCPU) { v.vmcb.Set(tRAX, abi.CPUIDSignature) }, resume, "", 0x1002},
		{"hlt", svm.ExitHLT, nil, blockIt, "", 0x1001},
		{"out-e9", svm.ExitIOIO, func(v *VCPU) {
			v.vmcb.Set(tExitInfo1, abi.DebugPort<<16|1<<4)
			v.vmcb.Set(tExitInfo2, 0x1005)
			v.vmcb.Set(tRAX, 'x')
		}, resume, "", 0x1005},
		{"string-io", svm.ExitIOIO, func(v *VCPU) { v.vmcb.Set(tExitInfo1, 0x80<<16|4|1<<4) }, crashIt, "string I/O", 0x1000},
		{"npf", svm.ExitNPF, func(v *VCPU) { v.vmcb.Set(tExitInfo2, 0xf0000000) }, crashIt, "nested page fault at gpa=0xf0000000", 0x1000},
		{"shutdown", svm.ExitShutdown, nil, crashIt, "triple fault at rip=0x1000", 0x1000},
		{"invalid", svm.ExitInvalid, nil, crashIt, "invalid guest state", 0x1000},
		{"unknown", 0x1234, nil, crashIt, "unhandled exit 0x1234", 0x1000},
		{"intr", svm.ExitINTR, nil, yield, "", 0x1000},
		{"vmrun", svm.ExitVMRUN, nil, resume, "", 0x1000},
		{"rdmsr-unknown", svm.ExitMSR, func(v *VCPU) { v.regs.RCX = 0x1234 }, resume, "", 0x1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := fakeVCPU(t)
			v.vmcb.Set(tRIP, 0x1000)
			v.vmcb.Set(tExitCode, tc.code)
			if tc.setup != nil {
				tc.setup(v)
			}
			got, why := handleExit(v, tc.code)
			if got != tc.want || !strings.Contains(why, tc.wantWhy) {
				t.Fatalf("handleExit = %v, %q; want %v, %q", got, why, tc.want, tc.wantWhy)
			}
			if rip := v.vmcb.RIP(); rip != tc.wantRIP {
				t.Fatalf("RIP = %#x, want %#x", rip, tc.wantRIP)
			}
		})
	}
}

func TestCPUIDHidesSVM(t *testing.T) {
	a, b, c, d := guestCPUID(abi.CPUIDSignature, 0)
	sig := string([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24), byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24), byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24)})
	if sig != abi.Signature || a < abi.CPUIDTiming {
		t.Fatalf("signature leaf = %#x %q", a, sig)
	}
	if _, _, c, _ := guestCPUID(0x80000001, 0); c&(1<<2) != 0 {
		t.Fatal("SVM bit visible to the guest")
	}
	if _, _, c, _ := guestCPUID(1, 0); c&(1<<31) == 0 {
		t.Fatal("hypervisor-present bit missing")
	}
	if a, b, c, d := guestCPUID(0x8000000a, 0); a|b|c|d != 0 {
		t.Fatal("SVM feature leaf visible")
	}
}

func TestUnknownHypercall(t *testing.T) {
	v := fakeVCPU(t)
	for _, nr := range []uint64{0, 14, 999, 1 << 40} {
		t.Run(fmt.Sprint(nr), func(t *testing.T) {
			v.vmcb.Set(tRAX, nr)
			if out, _ := hypercall(v); out != resume || int64(v.vmcb.RAX()) != -38 {
				t.Fatalf("hypercall %d: outcome %v rax %d, want resume, -ENOSYS", nr, out, int64(v.vmcb.RAX()))
			}
		})
	}
	// domctl from a domU, following Xen's order of checks.
	ctl := abi.Ctl{Cmd: abi.DomctlGetInfo, Version: abi.DomctlVersion}
	for _, tc := range []struct {
		name string
		ptr  uint64
		ctl  abi.Ctl
		want int64
	}{
		{"bad-pointer", 0x7ff00000, ctl, -14},
		{"bad-version", 0x2000, abi.Ctl{Cmd: abi.DomctlGetInfo, Version: 99}, -13},
		{"not-privileged", 0x3000, ctl, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v.dom.ram.write(0x2000, tc.ctl.Encode())
			v.dom.ram.write(0x3000, tc.ctl.Encode())
			v.vmcb.Set(tRAX, abi.Domctl)
			v.regs.RDI = tc.ptr
			if hypercall(v); int64(v.vmcb.RAX()) != tc.want {
				t.Fatalf("domctl: %d, want %d", int64(v.vmcb.RAX()), tc.want)
			}
		})
	}
}

func TestAsmGuestsArePVHImages(t *testing.T) {
	for name, build := range map[string]func() ([]byte, error){
		"hello": asm.Hello, "cpuid": asm.CPUIDProbe, "results": asm.Results,
		"unmapped": asm.Unmapped, "triple": asm.TripleFault,
		"heartbeat": func() ([]byte, error) { return asm.Heartbeat(1e8) },
		"fuzz":      func() ([]byte, error) { return asm.Fuzz(10) },
	} {
		t.Run(name, func(t *testing.T) {
			img, err := build()
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := guest.ParseImage(name, img)
			if err != nil {
				t.Fatal(err)
			}
			if entry := parsed.Entry; entry != asm.CodeBase {
				t.Fatalf("PVH entry %#x, want %#x", entry, asm.CodeBase)
			}
		})
	}
}
