package hv

import (
	"grove/errno"
	"grove/hv/abi"
	"grove/hv/svm"
)

// vcpu_op: a guest brings up, takes down and interrupts its own vCPUs (ABI,
// errnos and the start-state layout in hv/abi/vcpu.go).

const attrCode64 = 0xa9b // 64-bit code segment: P, S, type 0xb, L=1, G=1

func hcallVCPUOp(v *VCPU, x *exitState, a [5]uint64) (int64, outcome) {
	cmd, id, arg := a[0], a[1], a[2]
	d := v.dom
	if id >= uint64(len(d.vcpus)) {
		return errno.ENOENT.Ret(), resume
	}
	t := d.vcpus[id]
	s := d.hv.sched
	switch cmd {
	case abi.VCPUOpInitialise:
		return v.errRet(initVCPU(v, t, arg), "vcpu_op initialise", uint32(id)), resume
	case abi.VCPUOpUp:
		return v.errRet(s.vcpuUp(t), "vcpu_op up", uint32(id)), resume
	case abi.VCPUOpDown:
		if s.vcpuDown(t) {
			return 0, yield // itself: it goes down at this exit (finish)
		}
		return 0, resume
	case abi.VCPUOpIsUp:
		return s.isUp(t), resume
	case abi.VCPUOpSendIPI:
		if arg < abi.MinIPIVector || arg > 255 {
			return errno.EINVAL.Ret(), resume
		}
		s.mu.Lock()
		s.raiseLocked(t, uint8(arg))
		s.mu.Unlock()
		return 0, resume
	}
	return errno.ENOSYS.Ret(), resume
}

// initVCPU gives the down, never-initialised t the start state at gva.
func initVCPU(v, t *VCPU, gva uint64) error {
	b, err := v.mem.copyIn(gva, abi.VCPUContextSize)
	if err != nil {
		return errno.EFAULT
	}
	ctx, _ := abi.DecodeVCPUContext(b)
	if field, err := ctx.Validate(); err != nil {
		v.dom.logf("vcpu_op initialise vcpu %d: bad %s", t.id, field)
		return err
	}
	s := v.dom.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.inited || t.state != vcpuDown {
		return errno.EEXIST
	}
	t.vmcb.SetLongMode(svm.LongModeState{RIP: ctx.RIP, RSP: ctx.RSP, RFLAGS: ctx.RFLAGS,
		CR0: ctx.CR0, CR3: ctx.CR3, CR4: ctx.CR4, EFER: ctx.EFER, FSBase: ctx.FSBase, GSBase: ctx.GSBase,
		CodeAttr: attrCode64, DataAttr: attrData})
	t.regs.RDI, t.regs.RSI, t.regs.RBX = ctx.RDI, ctx.RSI, ctx.RBX
	t.inited = true
	return nil
}

// vcpuUp makes an initialised t run (at once if its domain runs, else at
// its unpause). Up on an up vCPU is 0, as in Xen.
func (s *Scheduler) vcpuUp(t *VCPU) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !t.inited:
		return errno.EINVAL
	case t.downReq:
		t.downReq = false // asked down, not gone yet: it stays up
		return nil
	case t.state != vcpuDown:
		return nil
	}
	t.state = vcpuPaused
	if t.dom.state == domRunning {
		s.enqueueLocked(t)
	}
	return nil
}

// vcpuDown takes t down; a running t goes at its next exit (kicked if it
// runs elsewhere). It reports whether t is running now (the caller itself,
// when t is the calling vCPU).
func (s *Scheduler) vcpuDown(t *VCPU) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch t.state {
	case vcpuRunning:
		t.downReq = true
		s.kickLocked(t)
		return true
	case vcpuRunnable:
		s.removeLocked(t)
	case vcpuDead, vcpuDown:
		return false
	}
	t.state = vcpuDown
	return false
}

func (s *Scheduler) isUp(t *VCPU) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.state == vcpuDown || t.downReq || t.state == vcpuDead {
		return 0
	}
	return 1
}
