package hv

import (
	"fmt"
	"strings"
	"testing"

	"grove/boot/guest"
	"grove/guests/asm"
	"grove/hv/abi"
	"grove/hv/svm"
	"grove/x86"
)

// Exit handling is decided in plain Go: these tests make up exits (an
// exitState) and check the outcome and the guest state the handler left,
// with no VMCB and no hardware. Guest memory is a byte slice at
// guest-virtual 0 (fakeMem).

type fakeMem struct{ b []byte }

func (m *fakeMem) span(gva uint64, n int) ([]byte, error) {
	if gva > uint64(len(m.b)) || uint64(n) > uint64(len(m.b))-gva {
		return nil, errFault
	}
	return m.b[gva : gva+uint64(n)], nil
}

func (m *fakeMem) copyIn(gva uint64, n int) ([]byte, error) {
	b, err := m.span(gva, n)
	return append([]byte(nil), b...), err
}

func (m *fakeMem) copyOut(gva uint64, b []byte) error {
	dst, err := m.span(gva, len(b))
	copy(dst, b)
	return err
}

// fakeVCPU is vCPU 0 of an unprivileged domain 3 with 64 KiB of memory and
// its standard bus; its VMCB is the zero value (any use would panic).
func fakeVCPU(t *testing.T, privileged bool) (*VCPU, *fakeMem) {
	t.Helper()
	d := &Domain{ID: 3, Name: "test", Privileged: privileged}
	b, err := newDomainBus(d)
	if err != nil {
		t.Fatal(err)
	}
	d.bus = b
	m := &fakeMem{b: make([]byte, 64<<10)}
	return &VCPU{dom: d, mem: m}, m
}

func TestExitOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		x       exitState
		want    outcome
		wantRIP uint64
	}{
		{"cpuid", exitState{code: svm.ExitCPUID, rax: abi.CPUIDSignature}, resume, 0x1002},
		{"hlt", exitState{code: svm.ExitHLT}, block, 0x1001},
		{"out-e9", exitState{code: svm.ExitIOIO, rax: 'x', info2: 0x1005,
			info1: svm.IOIO{Port: abi.DebugPort, Size: 1}.Encode()}, resume, 0x1005},
		{"string-io", exitState{code: svm.ExitIOIO, info1: svm.IOIO{Port: 0x80, Str: true, Size: 1}.Encode()},
			crash("string I/O on port 0x80 at rip=0x1000 is not supported"), 0x1000},
		{"npf", exitState{code: svm.ExitNPF, info1: 4, info2: 0xf0000000},
			crash("nested page fault at gpa=0xf0000000 (error 0x4) rip=0x1000"), 0x1000},
		{"npf-delivering", exitState{code: svm.ExitNPF, info1: 6, info2: 0xfff8, intInfo: svm.Exception(x86.VecUD, false, 0)},
			crash("nested page fault at gpa=0xfff8 (error 0x6) rip=0x1000 delivering vector 0x6"), 0x1000},
		{"shutdown", exitState{code: svm.ExitShutdown}, crash("triple fault at rip=0x1000"), 0x1000},
		{"invalid", exitState{code: svm.ExitInvalid}, crash("invalid guest state (VMEXIT_INVALID) at rip=0x1000"), 0x1000},
		{"unknown", exitState{code: 0x1234}, crash("unhandled exit 0x1234 at rip=0x1000"), 0x1000},
		{"intr", exitState{code: svm.ExitINTR}, resume, 0x1000},
		{"vintr", exitState{code: svm.ExitVINTR}, resume, 0x1000},
		{"vmrun", exitState{code: svm.ExitVMRUN}, resume, 0x1000},
		{"vmmcall-yield", exitState{code: svm.ExitVMMCALL, rax: abi.SchedOp}, yield, 0x1003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := fakeVCPU(t, false)
			x := tc.x
			x.rip = 0x1000
			if got := handleExit(v, &x); got != tc.want {
				t.Fatalf("handleExit = %v, want %v", got, tc.want)
			}
			if x.rip != tc.wantRIP {
				t.Fatalf("RIP = %#x, want %#x", x.rip, tc.wantRIP)
			}
		})
	}
}

func TestExitInjects(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    exitState
		rcx  uint64
		want svm.Event
	}{
		{"vmrun-ud", exitState{code: svm.ExitVMRUN}, 0, svm.EventV | svm.EventTypeException | x86.VecUD},
		{"skinit-ud", exitState{code: svm.ExitSKINIT}, 0, svm.EventV | svm.EventTypeException | x86.VecUD},
		{"rdmsr-unknown-gp", exitState{code: svm.ExitMSR, info1: svm.MSRRead}, 0x1234,
			svm.EventV | svm.EventEV | svm.EventTypeException | x86.VecGP},
		{"rdmsr-pat", exitState{code: svm.ExitMSR, info1: svm.MSRRead}, x86.MSRPAT, 0},
		{"cpuid", exitState{code: svm.ExitCPUID}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := fakeVCPU(t, false)
			v.regs.RCX = tc.rcx
			x := tc.x
			if out := handleExit(v, &x); out != resume || x.inject != tc.want {
				t.Fatalf("outcome %v inject %#x, want resume, %#x", out, x.inject, tc.want)
			}
		})
	}
}

func TestEFERHidesSVME(t *testing.T) {
	v, _ := fakeVCPU(t, false)
	v.regs.RCX = x86.MSREFER
	x := exitState{code: svm.ExitMSR, info1: svm.MSRRead, efer: x86.EFERSVME | x86.EFERLME, rax: ^uint64(0)}
	handleExit(v, &x)
	if x.rax != x86.EFERLME || v.regs.RDX != 0 || x.rip != 2 {
		t.Fatalf("rdmsr EFER: rax %#x rdx %#x rip %d", x.rax, v.regs.RDX, x.rip)
	}
	x = exitState{code: svm.ExitMSR, info1: svm.MSRWrite, efer: x86.EFERSVME, rax: x86.EFERLME | x86.EFERNXE}
	v.regs.RDX = 0
	handleExit(v, &x)
	if x.efer != x86.EFERLME|x86.EFERNXE {
		t.Fatalf("wrmsr EFER: efer %#x", x.efer)
	}
}

// EXITINTINFO (APM 15.7.2) and QEMU's two quirks (redeliver's doc).
func TestRedeliver(t *testing.T) {
	pf := svm.Exception(x86.VecPF, true, 2)
	for _, tc := range []struct {
		name string
		in   svm.Event
		want svm.Event
	}{
		{"none", 0, 0},
		{"echo-with-V-clear", svm.EventTypeINTR | 0x40, 0},
		{"page-fault-with-error-code", pf, pf},
		{"interrupt", svm.EventV | svm.EventTypeINTR | 0x40, svm.EventV | svm.EventTypeINTR | 0x40},
		{"nmi", svm.EventV | svm.EventTypeNMI | 2, svm.EventV | svm.EventTypeNMI | 2},
		{"qemu-interrupt-as-exception", svm.EventV | svm.EventTypeException | 0x40, svm.EventV | svm.EventTypeINTR | 0x40},
		{"exception-31-kept", svm.EventV | svm.EventTypeException | 31, svm.EventV | svm.EventTypeException | 31},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redeliver(tc.in); got != tc.want {
				t.Fatalf("redeliver(%#x) = %#x, want %#x", tc.in, got, tc.want)
			}
		})
	}
}

// An interrupt cut short by a nested page fault while pushing its frame,
// or by a host interrupt, goes back into EVENTINJ.
func TestExitReinjectsInterruptedEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    exitState
	}{
		{"host-interrupt", exitState{code: svm.ExitINTR}},
		{"npf", exitState{code: svm.ExitNPF, info2: 0xf0000000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := fakeVCPU(t, false)
			x := tc.x
			x.intInfo = svm.EventV | svm.EventTypeException | abi.TimerVector // QEMU's report
			handleExit(v, &x)
			if want := svm.EventV | svm.EventTypeINTR | abi.TimerVector; x.inject != want {
				t.Fatalf("inject %#x, want %#x", x.inject, want)
			}
		})
	}
}

func TestIOIOOperandSizes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		port    uint16
		size    int
		rax     uint64
		wantRAX uint64
	}{
		{"in8-keeps-upper", 0x80, 1, 0x1122334455667788, 0x11223344556677ff},
		{"in16-keeps-upper", 0x80, 2, 0x1122334455667788, 0x112233445566ffff},
		{"in32-zero-extends", 0x80, 4, 0x1122334455667788, 0xffffffff},
		{"in8-debug-port", abi.DebugPort, 1, 0, abi.DebugPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := fakeVCPU(t, false)
			x := exitState{code: svm.ExitIOIO, rax: tc.rax, info2: 0x1002,
				info1: svm.IOIO{In: true, Port: tc.port, Size: tc.size}.Encode()}
			if out := handleExit(v, &x); out != resume || x.rax != tc.wantRAX || x.rip != 0x1002 {
				t.Fatalf("%v rax %#x rip %#x, want resume %#x 0x1002", out, x.rax, x.rip, tc.wantRAX)
			}
		})
	}
}

func TestDecodeIOIO(t *testing.T) {
	for _, io := range []svm.IOIO{
		{In: true, Size: 1, Port: 0x3f8}, {Size: 2, Port: 0xcf8}, {In: true, Str: true, Rep: true, Size: 4, Port: 0xffff},
	} {
		t.Run(fmt.Sprintf("%+v", io), func(t *testing.T) {
			if got := svm.DecodeIOIO(io.Encode()); got != io {
				t.Fatalf("round trip %+v", got)
			}
		})
	}
	// APM figure 15-2: OUT DX, AL to 0xe9 with a 32-bit address size.
	if io := svm.DecodeIOIO(0x00e9_0110); io != (svm.IOIO{Size: 1, Port: 0xe9}) {
		t.Fatalf("0xe90110 = %+v", io)
	}
}

func TestCPUIDHidesSVM(t *testing.T) {
	a, b, c, d := guestCPUID(abi.CPUIDSignature, 0)
	sig := string([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24), byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24), byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24)})
	if sig != abi.Signature || a < abi.CPUIDTiming {
		t.Fatalf("signature leaf = %#x %q", a, sig)
	}
	if _, _, c, _ := guestCPUID(x86.CPUIDLeafExt1, 0); c&x86.CPUIDExt1ECXSVM != 0 {
		t.Fatal("SVM bit visible to the guest")
	}
	if _, _, c, _ := guestCPUID(1, 0); c&x86.CPUIDStd1ECXHypervisor == 0 {
		t.Fatal("hypervisor-present bit missing")
	}
	if a, b, c, d := guestCPUID(x86.CPUIDLeafSVM, 0); a|b|c|d != 0 {
		t.Fatal("SVM feature leaf visible")
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

// A bug in a handler (here a domain without a bus) crashes that domain,
// naming the exit, instead of the hypervisor.
func TestHandlerPanicCrashesDomain(t *testing.T) {
	v, _ := fakeVCPU(t, false)
	v.dom.bus = nil // the IOIO handler will dereference it
	x := exitState{code: svm.ExitIOIO, rip: 0x42, info1: svm.IOIO{Port: 0x80, Size: 1}.Encode()}
	out := handleExit(v, &x)
	if out.act != actCrash || !strings.Contains(out.why, "hypervisor error handling exit 0x7b at rip=0x42") {
		t.Fatalf("handler panic: %v", out)
	}
}
