package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// The KVM ABI (Linux include/uapi/linux/kvm.h), x86-64.
const (
	kvmGetAPIVersion    = 0xae00
	kvmCreateVM         = 0xae01
	kvmGetVCPUMmapSize  = 0xae04
	kvmCreateVCPU       = 0xae41
	kvmSetUserMemRegion = 0x4020ae46 // _IOW(KVMIO, 0x46, 32 bytes)
	kvmRun              = 0xae80
	kvmGetRegs          = 0x8090ae81 // _IOR(KVMIO, 0x81, 144 bytes)
	kvmSetRegs          = 0x4090ae82
	kvmGetSregs         = 0x8138ae83 // _IOR(KVMIO, 0x83, 312 bytes)
	kvmSetSregs         = 0x4138ae84
	kvmExitIO           = 2
	runExitReason       = 8  // kvm_run.exit_reason
	runIOPort           = 34 // kvm_run.io.port (union at 32: direction, size, port)
	guestMem            = 0x10000
	guestEntry          = 0x1000
	portCPUIDDone       = 0x10
	portIO              = 0x11
	portIODone          = 0x12
)

type kvmRegs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS                            uint64
}

type kvmSegment struct {
	Base                                 uint64
	Limit                                uint32
	Selector                             uint16
	Type, Present, DPL, DB, S, L, G, AVL uint8
	Unusable, _                          uint8
}

type kvmSregs struct {
	CS, DS, ES, FS, GS, SS, TR, LDT     kvmSegment
	GDT, IDT                            [2]uint64
	CR0, CR2, CR3, CR4, CR8, EFER, APIC uint64
	IntBitmap                           [4]uint64
}

type vm struct {
	vcpu uintptr
	run  []byte
}

func ioctl(fd, req, arg uintptr) (uintptr, error) {
	r, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg)
	if e != 0 {
		return 0, e
	}
	return r, nil
}

func uintptrOf(p *byte) uintptr { return uintptr(unsafe.Pointer(p)) }

// newVM makes a VM with 64 KiB of memory holding code at guestEntry and
// one vCPU in real mode about to run it.
func newVM(code []byte) (*vm, error) {
	kvm, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if v, err := ioctl(kvm.Fd(), kvmGetAPIVersion, 0); err != nil || v != 12 {
		return nil, fmt.Errorf("KVM API version %d (%v), want 12", v, err)
	}
	vmfd, err := ioctl(kvm.Fd(), kvmCreateVM, 0)
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VM: %v", err)
	}
	mem, err := syscall.Mmap(-1, 0, guestMem, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	copy(mem[guestEntry:], code)
	region := make([]byte, 32) // slot, flags, guest_phys_addr, memory_size, userspace_addr
	binary.LittleEndian.PutUint64(region[16:], guestMem)
	binary.LittleEndian.PutUint64(region[24:], uint64(uintptrOf(&mem[0])))
	if _, err := ioctl(vmfd, kvmSetUserMemRegion, uintptrOf(&region[0])); err != nil {
		return nil, fmt.Errorf("KVM_SET_USER_MEMORY_REGION: %v", err)
	}
	vcpu, err := ioctl(vmfd, kvmCreateVCPU, 0)
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VCPU: %v", err)
	}
	size, err := ioctl(kvm.Fd(), kvmGetVCPUMmapSize, 0)
	if err != nil {
		return nil, err
	}
	run, err := syscall.Mmap(int(vcpu), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	var s kvmSregs
	if _, err := ioctl(vcpu, kvmGetSregs, uintptr(unsafe.Pointer(&s))); err != nil {
		return nil, fmt.Errorf("KVM_GET_SREGS: %v", err)
	}
	s.CS.Base, s.CS.Selector = 0, 0
	if _, err := ioctl(vcpu, kvmSetSregs, uintptr(unsafe.Pointer(&s))); err != nil {
		return nil, fmt.Errorf("KVM_SET_SREGS: %v", err)
	}
	r := kvmRegs{RIP: guestEntry, RFLAGS: 2, RSP: 0x8000}
	if _, err := ioctl(vcpu, kvmSetRegs, uintptr(unsafe.Pointer(&r))); err != nil {
		return nil, fmt.Errorf("KVM_SET_REGS: %v", err)
	}
	return &vm{vcpu: vcpu, run: run}, nil
}

// runToIO runs the vCPU until it writes a port, and returns the port.
func (v *vm) runToIO() (uint16, error) {
	for {
		_, err := ioctl(v.vcpu, kvmRun, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("KVM_RUN: %v", err)
		}
		if r := binary.LittleEndian.Uint32(v.run[runExitReason:]); r != kvmExitIO {
			return 0, fmt.Errorf("KVM_RUN exit reason %d, want I/O", r)
		}
		return binary.LittleEndian.Uint16(v.run[runIOPort:]), nil
	}
}

// round runs one round of the guest: its CPUID loop (one KVM_RUN, the
// exits handled in the kernel) and its port loop (a KVM_RUN per exit).
func (v *vm) round() (cpuid, io time.Duration, err error) {
	t0 := time.Now()
	if p, err := v.runToIO(); err != nil || p != portCPUIDDone {
		return 0, 0, fmt.Errorf("CPUID loop ended at port %#x: %v", p, err)
	}
	t1 := time.Now()
	for {
		p, err := v.runToIO()
		if err != nil {
			return 0, 0, err
		}
		if p == portIODone {
			break
		}
		if p != portIO {
			return 0, 0, fmt.Errorf("port loop wrote port %#x", p)
		}
	}
	return t1.Sub(t0), time.Since(t1), nil
}

// guestCode is the real-mode guest: n CPUIDs (leaf 0), an OUT to
// portCPUIDDone, m OUTs to portIO, an OUT to portIODone, and again.
func guestCode(n, m uint32) []byte {
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	var c []byte
	c = append(c, 0x66, 0xbe)
	c = append(c, le(n)...)            // top: mov esi, n
	c = append(c, 0x66, 0x31, 0xc0)    // cpuid: xor eax, eax
	c = append(c, 0x66, 0x31, 0xc9)    // xor ecx, ecx
	c = append(c, 0x0f, 0xa2)          // cpuid
	c = append(c, 0x66, 0x4e)          // dec esi
	c = append(c, 0x75, 0xf4)          // jnz cpuid (-12)
	c = append(c, 0xe6, portCPUIDDone) // out portCPUIDDone, al
	c = append(c, 0x66, 0xbe)
	c = append(c, le(m)...)                  // mov esi, m
	c = append(c, 0xe6, portIO)              // io: out portIO, al
	c = append(c, 0x66, 0x4e)                // dec esi
	c = append(c, 0x75, 0xfa)                // jnz io (-6)
	c = append(c, 0xe6, portIODone)          // out portIODone, al
	c = append(c, 0xeb, byte(-(len(c) + 2))) // jmp top
	return c
}
