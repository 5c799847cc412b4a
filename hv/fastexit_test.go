package hv

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"grove/hv/abi"
	"grove/hv/svm"
	"grove/x86"
)

// The exit fast path must answer as the Go handlers do. These tests run
// svm's assembly (svm.Fast.Handle, the step the VMRUN loop takes after
// each exit) on a made-up VMCB and compare what it leaves with what the Go
// handler leaves for the same exit, on this machine's CPUID.

// fastVCPU is vCPU id of n in a domain (PC-platform when pc), its VMCB an
// mmap'd page outside the Go heap as the real ones are kernel pages.
func fastVCPU(t *testing.T, pc bool, n, id int) *VCPU {
	t.Helper()
	page, err := syscall.Mmap(-1, 0, pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(page) })
	v, _ := fakeVCPU(t, false)
	if pc {
		v.dom.pc = &platform{}
	}
	for i := 0; i < n; i++ {
		v.dom.vcpus = append(v.dom.vcpus, &VCPU{dom: v.dom, id: i})
	}
	v.id = id
	v.dom.vcpus[id] = v
	v.vmcb = svm.VMCB{PA: uintptr(unsafe.Pointer(&page[0]))}
	v.setupFast()
	return v
}

// fastStep puts exit code with RAX rax at RIP 0x1000 into v's VMCB and
// runs the fast path on it.
func fastStep(v *VCPU, code, rax uint64, set func(m svm.VMCB)) bool {
	m := v.vmcb
	m.Set(0x070, code) // EXITCODE (APM table B-1)
	m.SetRAX(rax)
	m.SetRIP(0x1000)
	m.Set(0x570, x86.RFLAGSMBS) // RFLAGS
	m.Set(0x088, 0)             // EXITINTINFO
	if set != nil {
		set(m)
	}
	return v.fast.Handle(m, &v.regs)
}

type cpuidOut struct{ rip, rax, rbx, rcx, rdx uint64 }

func TestFastCPUIDMatchesGo(t *testing.T) {
	var leaves []uint32
	for _, r := range [][2]uint32{{0, 0x24}, {abi.CPUIDSignature, abi.CPUIDSignature + 0x20}, {0x80000000, 0x80000030}} {
		for l := r[0]; l <= r[1]; l++ {
			leaves = append(leaves, l)
		}
	}
	leaves = append(leaves, 0x20000000, 0x7fffffff, 0xffffffff)
	subs := []uint32{0, 1, 2, 3, 4, 7, 0x7f, 0xffffffff}
	// Leaves the fast path must take on every machine: the bench's, Grove's.
	mustTake := []uint32{0, abi.CPUIDSignature, abi.CPUIDTopology, abi.CPUIDTiming, 0x80000000}
	for _, tc := range []struct {
		pc    bool
		n, id int
	}{{false, 1, 0}, {false, 3, 2}, {true, 1, 0}, {true, 2, 1}} {
		t.Run(fmt.Sprintf("pc=%v/vcpu-%d-of-%d", tc.pc, tc.id, tc.n), func(t *testing.T) {
			v := fastVCPU(t, tc.pc, tc.n, tc.id)
			taken := map[uint32]bool{}
			for _, leaf := range leaves {
				for _, sub := range subs {
					v.regs.RCX, v.regs.RBX, v.regs.RDX = uint64(sub), 0xbbbb, 0xdddd
					if !fastStep(v, svm.ExitCPUID, 0xabcd_0000_0000_0000|uint64(leaf), nil) {
						continue
					}
					taken[leaf] = true
					fast := cpuidOut{v.vmcb.RIP(), v.vmcb.RAX(), v.regs.RBX, v.regs.RCX, v.regs.RDX}
					v.regs.RCX, v.regs.RBX, v.regs.RDX = uint64(sub), 0xbbbb, 0xdddd
					x := exitState{code: svm.ExitCPUID, rip: 0x1000, rax: 0xabcd_0000_0000_0000 | uint64(leaf)}
					if out := handleExit(v, &x); out != resume {
						t.Fatalf("Go handler: %v", out)
					}
					if goOut := (cpuidOut{x.rip, x.rax, v.regs.RBX, v.regs.RCX, v.regs.RDX}); fast != goOut {
						t.Errorf("leaf %#x.%d: fast path %#v, Go %#v", leaf, sub, fast, goOut)
					}
				}
			}
			for _, l := range mustTake {
				if !taken[l] {
					t.Errorf("leaf %#x went to Go", l)
				}
			}
			if !tc.pc && taken[1] {
				t.Error("leaf 1 (the host CPU's APIC id) taken from a table")
			}
			if tc.pc && !taken[1] {
				t.Error("leaf 1 of a PC vCPU (its own APIC id) went to Go")
			}
			if fs := v.fast.TakeExits(); fs == 0 {
				t.Error("no fast exits counted")
			}
		})
	}
}

func TestFastHypercallsMatchGo(t *testing.T) {
	v := fastVCPU(t, false, 1, 0)
	nums := []uint64{0xfff, 64, 1 << 32, ^uint64(0)}
	for n := uint64(0); n < maxHypercall; n++ {
		nums = append(nums, n)
	}
	for _, n := range nums {
		t.Run(fmt.Sprintf("%#x", n), func(t *testing.T) {
			took := fastStep(v, svm.ExitVMMCALL, n, nil)
			if inTable := n < maxHypercall && hypercalls[n] != nil; took == inTable {
				t.Fatalf("fast path took it: %v; in the Go table: %v", took, inTable)
			}
			if !took {
				return
			}
			x := exitState{code: svm.ExitVMMCALL, rip: 0x1000, rax: n}
			if out := handleExit(v, &x); out != resume || x.rip != v.vmcb.RIP() || x.rax != v.vmcb.RAX() {
				t.Fatalf("Go: %v rip %#x rax %#x; fast path: rip %#x rax %#x", out, x.rip, x.rax, v.vmcb.RIP(), v.vmcb.RAX())
			}
		})
	}
}

// TestFastConsoleMatchesGo writes the same bytes to the debug port through
// the fast path (with the scheduler's drain after each return) and through
// the Go handler alone: the domain's console prints the same lines, and a
// line is printed as soon as its newline is written.
func TestFastConsoleMatchesGo(t *testing.T) {
	text := "ab\r\tc\x01\n" + strings.Repeat("x", svm.ConsoleMax+3) + "\nlast\nunfinished"
	info1 := svm.IOIO{Port: abi.DebugPort, Size: 1}.Encode()
	set := func(m svm.VMCB) { m.Set(0x078, info1); m.Set(0x080, 0x1002) }
	out := map[bool]string{}
	for _, fastPath := range []bool{true, false} {
		v := fastVCPU(t, false, 1, 0)
		out[fastPath] = captureStdout(t, func() {
			for i := 0; i < len(text); i++ {
				c := uint64(text[i])
				if !fastPath || !fastStep(v, svm.ExitIOIO, c, set) {
					v.drainConsole()
					x := exitState{code: svm.ExitIOIO, info1: info1, info2: 0x1002, rax: c}
					handleExit(v, &x)
				}
				if c == '\n' && (v.dom.console.Len() != 0 || len(v.fast.Console()) != 0) {
					t.Errorf("byte %d: a newline left its line unprinted", i)
				}
			}
			v.drainConsole()
		}) + "|" + v.dom.console.String()
	}
	if out[true] != out[false] {
		t.Fatalf("fast path's console:\n%s\nGo's:\n%s", out[true], out[false])
	}
	if !strings.Contains(out[true], "(d3) last\n") {
		t.Fatalf("console: %q", out[true])
	}
}

// captureStdout runs fn with os.Stdout (where domain consoles print) going
// to a file, and returns what fn printed.
func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdout
	os.Stdout = f
	fn()
	os.Stdout = old
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFastFollowsPrepare checks the scheduler's side: the offer prepare
// makes, and kicks, decide whether the fast path keeps the guest.
func TestFastFollowsPrepare(t *testing.T) {
	cpuid := func(v *VCPU, rflags uint64, virq bool) bool {
		return fastStep(v, svm.ExitCPUID, 0, func(m svm.VMCB) {
			m.Set(0x570, x86.RFLAGSMBS|rflags)
			m.SetVIRQ(virq, timerVector)
		})
	}
	for _, tc := range []struct {
		name             string
		entryIF, raise   bool
		exitIF, exitVIRQ bool
		kick             bool
		want             bool
	}{
		{"nothing-waits", false, false, true, false, false, true},
		{"offered-pending", true, true, true, true, false, true},
		{"offered-taken", true, true, true, false, false, false},
		{"offered-if-cleared", true, true, false, true, false, false},
		{"held-if-still-off", false, true, false, false, false, true},
		{"held-if-set", false, true, true, false, false, false},
		{"kicked", false, false, false, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := fastVCPU(t, false, 1, 0)
			s := newScheduler(time.Millisecond, 1)
			c := s.cpus[0]
			c.asidOwner = make([]*VCPU, 2)
			v.dom.hv = &Hypervisor{sched: s}
			v.state, v.cpu = vcpuRunning, 0
			if tc.entryIF {
				v.vmcb.Set(0x570, x86.RFLAGSMBS|x86.RFLAGSIF)
			}
			if tc.raise {
				v.irq.raise(timerVector)
			}
			s.prepare(c, v)
			if got := v.vmcb.VIRQPending(); got != (tc.entryIF && tc.raise) {
				t.Fatalf("V_IRQ offered: %v", got)
			}
			if tc.kick {
				s.mu.Lock()
				s.kickLocked(v)
				s.mu.Unlock()
			}
			var exitIF uint64
			if tc.exitIF {
				exitIF = x86.RFLAGSIF
			}
			if got := cpuid(v, exitIF, tc.exitVIRQ); got != tc.want {
				t.Fatalf("fast path took the exit: %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWriteExitEndsInterruptShadow: a Go handler that completes the
// instruction (RIP moved) ends the interrupt shadow, as the fast path does;
// one that leaves RIP keeps it.
func TestWriteExitEndsInterruptShadow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		advance uint64
		want    bool
	}{{"rip-moved", 1, false}, {"rip-kept", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			v := fastVCPU(t, false, 1, 0)
			v.vmcb.SetRIP(0x1000)
			v.vmcb.Set(0x068, 1) // INTERRUPT_SHADOW
			x := exitState{rip: 0x1000 + tc.advance}
			v.writeExit(&x)
			if got := v.vmcb.InterruptShadow(); got != tc.want {
				t.Fatalf("shadow %v, want %v", got, tc.want)
			}
		})
	}
}
