package svm

import (
	"errors"
	"fmt"
	"sync"

	"grove/kernel"
	"grove/x86"
)

// ErrNoSVM is returned where the CPU lacks SVM or nested paging.
var ErrNoSVM = errors.New("no AMD SVM with nested paging: run QEMU with -cpu max, or enable SVM in firmware")

// Host is one CPU's SVM state: the host save area and the page VMSAVE and
// VMLOAD use for the host's FS/GS/TR/SYSCALL state around a guest's run.
// SVM is switched on per CPU (EFER.SVME and VM_HSAVE_PA are per-CPU MSRs),
// so each CPU that runs guests calls EnableCPU on itself and passes its
// Host to Run.
type Host struct {
	HSave, HostVMCB uintptr
}

var (
	enableOnce sync.Once
	enableErr  error
	iopm       uintptr
	msrpm      uintptr
	// ASIDs is how many ASIDs the CPU has (ASID 0 is the host's).
	ASIDs uint32
)

const (
	iopmPages  = 3 // 12 KiB
	msrpmPages = 2 // 8 KiB
)

// Enable checks for SVM and sets up what all CPUs share (once); it returns
// ErrNoSVM when SVM or nested paging is missing.
func Enable() error {
	enableOnce.Do(func() { enableErr = enable() })
	return enableErr
}

// EnableCPU turns SVM on for the calling CPU and returns its Host. The
// caller must stay on that CPU (a pinned, locked thread) while it runs
// guests with it.
func EnableCPU() (*Host, error) {
	if err := Enable(); err != nil {
		return nil, err
	}
	h := &Host{}
	var err error
	if h.HSave, err = kernel.AllocPages(1, 1); err != nil {
		return nil, err
	}
	if h.HostVMCB, err = kernel.AllocPages(1, 1); err != nil {
		kernel.FreePages(h.HSave, 1)
		return nil, err
	}
	kernel.WriteMSR(x86.MSREFER, kernel.ReadMSR(x86.MSREFER)|x86.EFERSVME)
	kernel.WriteMSR(x86.MSRVMHSAVEPA, uint64(h.HSave))
	return h, nil
}

func enable() error {
	f := kernel.CPUFeatures()
	if !f.SVM || !f.NPT {
		return ErrNoSVM
	}
	ASIDs = f.ASIDs
	var err error
	// Intercept every port and MSR (both maps all ones) until PassMSR.
	if iopm, err = kernel.AllocPages(iopmPages, 1); err != nil {
		return err
	}
	if msrpm, err = kernel.AllocPages(msrpmPages, 1); err != nil {
		return err
	}
	fill(iopm, iopmPages*kernel.PageSize)
	fill(msrpm, msrpmPages*kernel.PageSize)
	return nil
}

// MSRPM ranges (APM vol. 2, 15.11 "MSR Intercepts"): two bits per MSR,
// read then write, in three 2 KiB blocks.
var msrpmBlocks = [...]struct{ first, off uint32 }{
	{0x00000000, 0x000}, {0xc0000000, 0x800}, {0xc0010000, 0x1000},
}

// PassMSR lets every guest read and write msr without an exit. The MSRPM
// is shared, so this is the hypervisor's policy for all domains; call it
// after Enable.
func PassMSR(msr uint32) error {
	for _, b := range msrpmBlocks {
		if msr >= b.first && msr < b.first+0x2000 {
			bit := (msr - b.first) * 2
			p := bytesAt(msrpm+uintptr(b.off+bit/8), 1)
			p[0] &^= 3 << (bit % 8)
			return nil
		}
	}
	return fmt.Errorf("MSR %#x is outside the MSR permission map", msr)
}

func fill(pa uintptr, n int) {
	b := bytesAt(pa, n)
	for i := range b {
		b[i] = 0xff
	}
}

// Regs are the guest's general registers that the VMCB does not hold
// (RAX, RSP and RIP live in the VMCB), and its TSC_AUX, which VMRUN does
// not switch either (APM vol. 2, 15.5.1 lists what it does): vmrun puts
// TSCAux in the MSR while the guest runs, so its RDTSCP and RDPID read it,
// and gives the host its own back (the host's is its CPU index, which
// Grove's kernel reads with RDTSCP). vmrun_amd64.s uses go_asm.h offsets.
type Regs struct {
	RBX, RCX, RDX, RSI, RDI, RBP uint64
	R8, R9, R10, R11, R12, R13   uint64
	R14, R15                     uint64
	TSCAux                       uint64         // bits 31:0; the rest stay 0
	fpu                          [512 + 16]byte // guest FXSAVE image
}

// fpuAddr returns the 16-byte-aligned FXSAVE area.
func (r *Regs) fpuAddr() uintptr { return alignUp(addrOf(&r.fpu[0]), 16) }

// InitFPU gives the guest the power-on x87/SSE state (FCW 0x37f, MXCSR 0x1f80).
func (r *Regs) InitFPU() {
	b := bytesAt(r.fpuAddr(), 512)
	clear(b)
	b[0], b[1] = 0x7f, 0x03
	b[24], b[25] = 0x80, 0x1f
	b[28], b[29] = 0xbf, 0xff // MXCSR_MASK
}

// runArgs is what the long call receives (one pointer: it must not allocate).
type runArgs struct {
	vmcb, hostVMCB uintptr
	regs           *Regs
	fpu            uintptr
	fast           *Fast // nil: every exit returns
	floor          bool  // the floor's loop (floor.go) instead
	exitAtOnce     bool
}

const longCallVMRUN = 0

func init() {
	kernel.RegisterLongCall(longCallVMRUN, runGuest)
}

// runGuest is long call longCallVMRUN (kernel/longcall.go): it runs the
// guest until an exit the fast path does not take.
// Kernel context, interrupts off, without the BKL.
func runGuest(a, _ uintptr) uintptr {
	args := (*runArgs)(ptr(a))
	if args.floor {
		vmrunFloor(args.vmcb, args.hostVMCB, args.regs, args.fpu)
		return 0
	}
	if args.exitAtOnce {
		kernel.KickSelf() // pending through CLGI; taken as an INTR exit at the guest's first boundary
	}
	vmrun(args.vmcb, args.hostVMCB, args.regs, args.fpu, args.fast)
	return 0
}

// Run enters the guest of vmcb until an exit that fast (nil: none; see
// fast.go) does not take, or the deadline (kernel.Nanotime), and returns
// that exit's code. With exitAtOnce the guest exits (INTR) at its first
// instruction boundary, after VMRUN has injected what EVENTINJ holds.
func Run(h *Host, vmcb VMCB, regs *Regs, fast *Fast, deadline int64, exitAtOnce bool) uint64 {
	args := runArgs{vmcb: vmcb.PA, hostVMCB: h.HostVMCB, regs: regs, fpu: regs.fpuAddr(), fast: fast, exitAtOnce: exitAtOnce}
	return run(vmcb, &args, deadline)
}

func run(vmcb VMCB, args *runArgs, deadline int64) uint64 {
	kernel.LongCall(longCallVMRUN, addrOf(args), 0, deadline)
	keepAlive(args)
	return vmcb.ExitCode()
}

// GPR points at general register i as instruction encodings number them
// (1 RCX, 2 RDX, 3 RBX, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15). RAX (0) and
// RSP (4) live in the VMCB, not here: GPR panics for them.
func (r *Regs) GPR(i int) *uint64 {
	switch i {
	case 1:
		return &r.RCX
	case 2:
		return &r.RDX
	case 3:
		return &r.RBX
	case 5:
		return &r.RBP
	case 6:
		return &r.RSI
	case 7:
		return &r.RDI
	}
	if i >= 8 && i <= 15 {
		return [...]*uint64{&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15}[i-8]
	}
	panic("svm: GPR: RAX and RSP are in the VMCB, and there are 16 registers")
}
