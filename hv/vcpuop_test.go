package hv

import (
	"syscall"
	"testing"
	"time"
	"unsafe"

	"grove/errno"
	"grove/hv/abi"
	"grove/hv/svm"
)

// twoVCPUs is a running domain with vCPU 0 (the caller, running on CPU 0)
// and vCPU 1 (down, never initialised; its VMCB an mmap'd page outside the
// Go heap, like the real identity-mapped ones), on a two-CPU scheduler
// without loops.
func twoVCPUs(t *testing.T) (v0, v1 *VCPU, m *fakeMem) {
	t.Helper()
	v0, m = fakeVCPU(t, false)
	page, err := syscall.Mmap(-1, 0, pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(page) })
	d := v0.dom
	d.hv = &Hypervisor{sched: newScheduler(time.Millisecond, 2)}
	d.state = domRunning
	v0.state, v0.cpu, v0.inited = vcpuRunning, 0, true
	v1 = &VCPU{dom: d, id: 1, vmcb: svm.VMCB{PA: uintptr(unsafe.Pointer(&page[0]))}, state: vcpuDown, lastCPU: -1}
	d.vcpus = []*VCPU{v0, v1}
	return v0, v1, m
}

func vcpuOp(v *VCPU, cmd, id, arg uint64) (int64, outcome) {
	return hcallVCPUOp(v, &exitState{}, [5]uint64{cmd, id, arg})
}

func TestVCPUOpLifeCycle(t *testing.T) {
	v0, v1, m := twoVCPUs(t)
	ctx := abi.VCPUContext{Mode: abi.VCPUMode64, RIP: 0x200000, RSP: 0x7000, RDI: 1, RFLAGS: 2,
		CR0: 0x80000033, CR3: 0x1000, CR4: 0x620, EFER: 0xd01}
	copy(m.b[0x100:], ctx.Encode())
	bad := ctx
	bad.CR4 = 0
	copy(m.b[0x400:], bad.Encode())
	steps := []struct {
		name         string
		cmd, id, arg uint64
		want         int64
	}{
		{"no-such-vcpu", abi.VCPUOpUp, 2, 0, errno.ENOENT.Ret()},
		{"up-uninitialised", abi.VCPUOpUp, 1, 0, errno.EINVAL.Ret()},
		{"is-up-down", abi.VCPUOpIsUp, 1, 0, 0},
		{"initialise-bad-pointer", abi.VCPUOpInitialise, 1, 1 << 40, errno.EFAULT.Ret()},
		{"initialise-bad-cr4", abi.VCPUOpInitialise, 1, 0x400, errno.EINVAL.Ret()},
		{"initialise", abi.VCPUOpInitialise, 1, 0x100, 0},
		{"initialise-again", abi.VCPUOpInitialise, 1, 0x100, errno.EEXIST.Ret()},
		{"up", abi.VCPUOpUp, 1, 0, 0},
		{"is-up", abi.VCPUOpIsUp, 1, 0, 1},
		{"up-again", abi.VCPUOpUp, 1, 0, 0},
		{"ipi-bad-vector", abi.VCPUOpSendIPI, 1, 8, errno.EINVAL.Ret()},
		{"ipi", abi.VCPUOpSendIPI, 1, 0xf0, 0},
		{"down", abi.VCPUOpDown, 1, 0, 0},
		{"is-up-after-down", abi.VCPUOpIsUp, 1, 0, 0},
		{"unknown-cmd", 77, 1, 0, errno.ENOSYS.Ret()},
	}
	for _, st := range steps {
		got, out := vcpuOp(v0, st.cmd, st.id, st.arg)
		if got != st.want || out != resume {
			t.Fatalf("%s: vcpu_op = %d, %v; want %d, resume", st.name, got, out, st.want)
		}
		if st.name == "up" {
			if v1.state != vcpuRunnable || v1.vmcb.RIP() != 0x200000 || v1.regs.RDI != 1 || v1.vmcb.EFER()&(1<<10) == 0 {
				t.Fatalf("after up: state %v rip %#x rdi %d efer %#x", v1.state, v1.vmcb.RIP(), v1.regs.RDI, v1.vmcb.EFER())
			}
		}
		if st.name == "ipi" && v1.irq.next() != 0xf0 {
			t.Fatal("send_ipi left no pending vector 0xf0")
		}
	}
	if v1.state != vcpuDown {
		t.Fatalf("after down: state %v", v1.state)
	}
	for _, c := range v0.dom.hv.sched.cpus {
		if len(c.runq) != 0 {
			t.Fatalf("cpu %d still queues %d vCPUs after down", c.id, len(c.runq))
		}
	}
}

func TestVCPUOpDownSelf(t *testing.T) {
	v0, _, _ := twoVCPUs(t)
	s := v0.dom.hv.sched
	s.cpus[0].cur = v0
	if ret, out := vcpuOp(v0, abi.VCPUOpDown, 0, 0); ret != 0 || out != yield {
		t.Fatalf("down self = %d, %v; want 0, yield", ret, out)
	}
	if got, _ := vcpuOp(v0, abi.VCPUOpIsUp, 0, 0); got != 0 {
		t.Fatal("is_up says a vCPU going down is up")
	}
	s.finish(s.cpus[0], v0, yield)
	if v0.state != vcpuDown || s.cpus[0].cur != nil {
		t.Fatalf("after its exit: state %v, cpu running %v", v0.state, s.cpus[0].cur)
	}
}

// An interrupt for a blocked vCPU wakes it onto a run queue.
func TestSendIPIWakesBlocked(t *testing.T) {
	v0, v1, _ := twoVCPUs(t)
	v1.inited, v1.state = true, vcpuBlocked
	if ret, _ := vcpuOp(v0, abi.VCPUOpSendIPI, 1, 0x40); ret != 0 {
		t.Fatalf("send_ipi = %d", ret)
	}
	if v1.state != vcpuRunnable {
		t.Fatalf("blocked vCPU is %v after an IPI, want runnable", v1.state)
	}
}
