package kernel

import (
	"encoding/binary"

	"grove/errno"
	"grove/x86"
)

// Linux signal delivery, enough for the Go runtime: synchronous faults in Go
// code become SIGSEGV/SIGFPE/SIGILL/SIGTRAP with a real rt_sigframe on the
// thread's sigaltstack, so the runtime's handler turns them into panics;
// tgkill queues a signal for delivery at the target's next return from the
// kernel. Layouts follow arch/x86/include/uapi/asm/sigcontext.h and the
// runtime's defs_linux_amd64.go.

const (
	sigILL   = 4
	sigTRAP  = 5
	sigABRT  = 6
	sigBUS   = 7
	sigFPE   = 8
	sigKILL  = 9
	sigSEGV  = 11
	sigSTOP  = 19
	sigCHLD  = 17
	sigURG   = 23
	sigWINCH = 28
	nSig     = 64

	saSiginfo  = 0x4
	saOnStack  = 0x08000000
	saRestorer = 0x04000000
	saNodefer  = 0x40000000

	ssOnStack = 1
	ssDisable = 2

	sigDFL = 0
	sigIGN = 1

	fpeIntDiv = 1
	illIllOpn = 2
	siKernel  = 0x80
	trapBrkpt = 1
)

// sigaction is struct sigaction as the kernel ABI lays it out.
type sigaction struct{ handler, flags, restorer, mask uint64 }

var sigactions [nSig + 1]sigaction

// Signal frame layout (byte offsets from the handler's RSP).
const (
	ucOff       = 8
	ucStackOff  = ucOff + 16
	ucGregsOff  = ucOff + 40
	ucFPPtrOff  = ucGregsOff + 23*8
	ucMaskOff   = ucOff + 296
	ucSize      = 424
	infoOff     = ucOff + ucSize
	infoSize    = 128
	frameSize   = infoOff + infoSize
	fpStateSize = 512
)

// frameRegs returns the TrapFrame fields in Linux greg order (R8 .. RFLAGS).
// Kernel context.
func frameRegs(f *TrapFrame) [18]*uint64 {
	return [18]*uint64{&f.R8, &f.R9, &f.R10, &f.R11, &f.R12, &f.R13, &f.R14, &f.R15,
		&f.RDI, &f.RSI, &f.RBP, &f.RBX, &f.RDX, &f.RAX, &f.RCX, &f.RSP, &f.RIP, &f.RFLAGS}
}

// Kernel context.
func sigBit(sig int) uint64 { return 1 << uint(sig-1) }

// deliver builds a signal frame for sig on task t and points f at the handler.
// It returns false if the frame cannot be written.
// Kernel context.
func deliver(t *task, f *TrapFrame, sig, code int, addr uint64) bool {
	act := &sigactions[sig]
	sp := uintptr(f.RSP) - 128 // skip the red zone
	onAlt := t.altSize != 0 && sp >= t.altSP && sp < t.altSP+t.altSize
	if act.flags&saOnStack != 0 && t.altSize != 0 && t.altFlags&ssDisable == 0 && !onAlt {
		sp = t.altSP + t.altSize
	}
	fp := (sp - fpStateSize) &^ 63
	base := ((fp - frameSize) &^ 15) - 8
	if !kas.access(base, sp-base, true) {
		return false
	}
	b := bytesAt(base, sp-base)
	for i := range b {
		b[i] = 0
	}
	copy(bytesAt(fp, fpStateSize), bytesAt(t.fpuAddr(), fpStateSize))
	put := func(off uintptr, v uint64) { *wordAt(base + off) = v }
	put(0, act.restorer)
	put(ucStackOff, uint64(t.altSP))
	*ptrAt[int32](base + ucStackOff + 8) = t.altFlags
	put(ucStackOff+16, uint64(t.altSize))
	for i, r := range frameRegs(f) {
		put(ucGregsOff+uintptr(i)*8, *r)
	}
	put(ucGregsOff+18*8, selKernelCode) // CSGSFS
	put(ucGregsOff+19*8, f.ErrCode)
	put(ucGregsOff+20*8, f.Vector)
	put(ucGregsOff+21*8, t.sigMask)
	put(ucGregsOff+22*8, addr) // CR2
	put(ucFPPtrOff, uint64(fp))
	put(ucMaskOff, t.sigMask)
	*ptrAt[int32](base + infoOff) = int32(sig)
	*ptrAt[int32](base + infoOff + 8) = int32(code)
	put(infoOff+16, addr)

	if act.flags&saNodefer == 0 {
		t.sigMask |= sigBit(sig)
	}
	t.sigMask |= act.mask
	f.RSP = uint64(base)
	f.RIP = act.handler
	f.RDI = uint64(sig)
	f.RSI = uint64(base + infoOff)
	f.RDX = uint64(base + ucOff)
	f.RAX = 0
	f.RFLAGS &^= x86.RFLAGSTF | x86.RFLAGSDF | x86.RFLAGSAC
	return true
}

// catches reports whether sig has a handler the task can take now.
// Kernel context.
func catches(t *task, sig int) bool {
	h := sigactions[sig].handler
	return h != sigDFL && h != sigIGN && t.sigMask&sigBit(sig) == 0
}

// faultSignal delivers a synchronous fault signal to the current task, or
// kills the system when nothing can catch it.
// Kernel context.
func faultSignal(c *percpu, f *TrapFrame, sig, code int, addr uint64) {
	t := &tasks[c.cur]
	if !catches(t, sig) || !deliver(t, f, sig, code, addr) {
		fatalSignal(f, sig, addr)
	}
}

// deliverPending runs at every return from the kernel.
// Kernel context.
func deliverPending(c *percpu, f *TrapFrame) {
	t := &tasks[c.cur]
	p := t.sigPending &^ t.sigMask
	if p == 0 || c.cur == c.idle {
		return
	}
	for sig := 1; sig <= nSig; sig++ {
		if p&sigBit(sig) == 0 {
			continue
		}
		t.sigPending &^= sigBit(sig)
		h := sigactions[sig].handler
		switch {
		case h == sigIGN:
		case h == sigDFL && (sig == sigCHLD || sig == sigURG || sig == sigWINCH):
		case h == sigDFL:
			fatalSignal(f, sig, 0)
		default:
			if !deliver(t, f, sig, 0, 0) {
				fatalSignal(f, sig, 0)
			}
		}
		return
	}
}

// signalTask queues sig for task tid; a blocked task is woken with EINTR.
// Kernel context.
func signalTask(tid int32, sig int) uint64 {
	if sig < 0 || sig > nSig {
		return sysErr(errno.EINVAL)
	}
	for i := range tasks {
		t := &tasks[i]
		if t.state == taskFree || t.tid != tid {
			continue
		}
		if sig == 0 {
			return 0
		}
		t.sigPending |= sigBit(sig)
		if t.state == taskBlocked && t.sigMask&sigBit(sig) == 0 {
			wake(int32(i), sysErr(errno.EINTR))
		}
		return 0
	}
	return sysErr(errno.ESRCH)
}

// Kernel context.
func sysTgkillFn(c *percpu, f *TrapFrame) uint64 { return signalTask(int32(f.RSI), int(f.RDX)) }

// Kernel context.
func sysKillFn(c *percpu, f *TrapFrame) uint64 {
	if f.RDI != 1 && int64(f.RDI) != 0 && int64(f.RDI) != -1 {
		return sysErr(errno.ESRCH)
	}
	return signalTask(tasks[c.cur].tid, int(f.RSI))
}

// Kernel context.
func sysRtSigactionFn(c *percpu, f *TrapFrame) uint64 {
	sig := int(f.RDI)
	act, old := uintptr(f.RSI), uintptr(f.RDX)
	if sig < 1 || sig > nSig || (act != 0 && (sig == sigKILL || sig == sigSTOP)) {
		return sysErr(errno.EINVAL)
	}
	if old != 0 {
		if !kas.access(old, 32, true) {
			return sysErr(errno.EFAULT)
		}
		*ptrAt[sigaction](old) = sigactions[sig]
	}
	if act != 0 {
		if !kas.access(act, 32, false) {
			return sysErr(errno.EFAULT)
		}
		sigactions[sig] = *ptrAt[sigaction](act)
		sigactions[sig].mask &^= sigBit(sigKILL) | sigBit(sigSTOP)
	}
	return 0
}

// Kernel context.
func sysRtSigprocmaskFn(c *percpu, f *TrapFrame) uint64 {
	const block, unblock, setmask = 0, 1, 2
	t := &tasks[c.cur]
	set, old := uintptr(f.RSI), uintptr(f.RDX)
	if old != 0 {
		if !kas.access(old, 8, true) {
			return sysErr(errno.EFAULT)
		}
		*wordAt(old) = t.sigMask
	}
	if set == 0 {
		return 0
	}
	if !kas.access(set, 8, false) {
		return sysErr(errno.EFAULT)
	}
	m := *wordAt(set) &^ (sigBit(sigKILL) | sigBit(sigSTOP))
	switch f.RDI {
	case block:
		t.sigMask |= m
	case unblock:
		t.sigMask &^= m
	case setmask:
		t.sigMask = m
	default:
		return sysErr(errno.EINVAL)
	}
	return 0
}

// stackt is stack_t.
type stackt struct {
	sp    uintptr
	flags int32
	_     int32
	size  uintptr
}

// Kernel context.
func sysSigaltstackFn(c *percpu, f *TrapFrame) uint64 {
	t := &tasks[c.cur]
	ss, old := uintptr(f.RDI), uintptr(f.RSI)
	if old != 0 {
		if !kas.access(old, 24, true) {
			return sysErr(errno.EFAULT)
		}
		o := stackt{sp: t.altSP, size: t.altSize, flags: t.altFlags}
		if t.altSize == 0 {
			o.flags = ssDisable
		}
		*ptrAt[stackt](old) = o
	}
	if ss != 0 {
		if !kas.access(ss, 24, false) {
			return sysErr(errno.EFAULT)
		}
		n := *ptrAt[stackt](ss)
		if n.flags&ssDisable != 0 {
			t.altSP, t.altSize, t.altFlags = 0, 0, ssDisable
			return 0
		}
		if n.size < 2048 {
			return sysErr(errno.ENOMEM)
		}
		t.altSP, t.altSize, t.altFlags = n.sp, n.size, 0
	}
	return 0
}

// sysRtSigreturnFn restores the context saved by deliver (RSP points at the
// ucontext once the handler's RET has popped the restorer address).
// Kernel context.
func sysRtSigreturnFn(c *percpu, f *TrapFrame) uint64 {
	t := &tasks[c.cur]
	uc := uintptr(f.RSP)
	if !kas.access(uc, ucSize, false) {
		fatalSignal(f, sigSEGV, uint64(uc))
	}
	get := func(off uintptr) uint64 { return *wordAt(uc + off) }
	for i, r := range frameRegs(f) {
		*r = get(40 + uintptr(i)*8)
	}
	f.RFLAGS = f.RFLAGS&0x00000cd5 | x86.RFLAGSIF | x86.RFLAGSMBS // arithmetic flags, DF, TF only
	f.CS, f.SS = selKernelCode, selKernelData
	if fp := uintptr(get(40 + 23*8)); fp != 0 && fp%16 == 0 && kas.access(fp, fpStateSize, false) {
		dst := bytesAt(t.fpuAddr(), fpStateSize)
		copy(dst, bytesAt(fp, fpStateSize))
		sanitizeMXCSR(dst)
	}
	t.sigMask = get(296) &^ (sigBit(sigKILL) | sigBit(sigSTOP))
	return keepFrame
}

// sanitizeMXCSR clears MXCSR bits FXRSTOR would fault on (#GP in the kernel).
// Kernel context.
func sanitizeMXCSR(fx []byte) {
	mask := binary.LittleEndian.Uint32(fx[28:])
	if mask == 0 {
		mask = 0xffbf
	}
	binary.LittleEndian.PutUint32(fx[24:], binary.LittleEndian.Uint32(fx[24:])&mask)
}
