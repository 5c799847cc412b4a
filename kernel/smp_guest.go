//go:build groveguest

package kernel

import "grove/x86"

// A guest of Grove starts its secondary vCPUs with vcpu_op (Xen's number
// 24, Grove's ABI in hv/abi/vcpu.go) rather than INIT and STARTUP IPIs: the
// hypervisor starts each one straight in long mode at apEntry64 with the
// registers the boot vCPU hands it. A CPU's "apicID" here is its vCPU id,
// the target of vcpu_op's send_ipi. Boot path, as in smp_metal.go.

// apCtx is the start state passed to initialise: static, since the boot
// path cannot allocate, and identity mapped, so its address is the
// guest-physical address the hypervisor reads (once, during the call).
var apCtx vcpuContext

// vcpuOp is vcpu_op(cmd, vcpu, arg): 0 or a negative errno.
// Kernel context.
func vcpuOp(cmd, vcpu, arg uintptr) int64 {
	return int64(hypercall(hcVCPUOp, cmd, vcpu, arg))
}

// hwSendIPI raises vector on the vCPU whose id is apicID.
// Kernel context.
func hwSendIPI(apicID uint32, vector uint8) {
	vcpuOp(vcpuOpSendIPI, uintptr(apicID), uintptr(vector))
}

// apPlatformInit has nothing to do in a guest: the timer is the per-vCPU
// set_timer_op, interrupts need no controller set up, and the hypervisor
// keeps the TSC one clock across its physical CPUs.
// Boot path.
func apPlatformInit(c *percpu) {}

// guestTopology reads the domain's vCPU count and this vCPU's id from
// Grove's CPUID leaf. A hypervisor without the leaf answers 0: one vCPU.
// Boot path.
func guestTopology() (n int, self uint32) {
	eax, ebx, _, _ := cpuid(cpuidTopology, 0)
	if eax == 0 {
		return 1, 0
	}
	return int(eax), ebx
}

// startAPs starts the domain's other vCPUs, at most limit CPUs in all
// (0 = no limit), and prints what came up if there was more than one.
// Boot path.
func startAPs(limit int) {
	n, self := guestTopology()
	cpus[0].apicID = self
	if n == 1 {
		return // a 1-vCPU guest boots exactly as before vcpu_op existed
	}
	cr := apControl{readCR0(), readCR3(), readCR4(), rdmsr(x86.MSREFER)}
	for id := 0; id < n; id++ {
		if uint32(id) == self {
			continue
		}
		if limit > 0 && onlineCPUs >= limit || onlineCPUs == maxCPUs {
			break
		}
		if startVCPU(onlineCPUs, uint32(id), cr) {
			onlineCPUs++
		}
	}
	printOnline("vcpus")
}

// startVCPU brings up vCPU id as cpus[idx] and reports whether it came.
// Boot path.
func startVCPU(idx int, id uint32, cr apControl) bool {
	c := &cpus[idx]
	stackTop, fsBase, ok := prepareAP(idx, id)
	if !ok {
		return false
	}
	apCtx.setAPStart(apEntryAddr(), stackTop, fsBase, idx, cr)
	if e := vcpuOp(vcpuOpInitialise, uintptr(id), uintptrOf(&apCtx)); e != 0 {
		return vcpuFailed(id, "initialise", e)
	}
	if e := vcpuOp(vcpuOpUp, uintptr(id), 0); e != 0 {
		return vcpuFailed(id, "up", e)
	}
	for end := nanotime() + apStartTimeout; !c.started.Load() && nanotime() < end; {
		pause()
	}
	if !c.started.Load() {
		vcpuOp(vcpuOpDown, uintptr(id), 0) // it must not run on stale data later
		kprint("cpu: vcpu ")
		kprintDec(uint64(id))
		kprint(" did not start within 3s, skipped\n")
		return false
	}
	return true
}

// vcpuFailed reports a vcpu_op the hypervisor refused (e = -errno).
// Boot path.
func vcpuFailed(id uint32, op string, e int64) bool {
	kprint("cpu: vcpu ")
	kprintDec(uint64(id))
	kprint(": vcpu_op ")
	kprint(op)
	kprint(" failed, errno ")
	kprintDec(uint64(-e))
	kprint(", skipped\n")
	return false
}
