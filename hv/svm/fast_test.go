package svm

import (
	"syscall"
	"testing"

	"grove/x86"
)

// The fast path's assembly (fastExit) on made-up exits: a VMCB in a Go
// byte array, as the loop leaves it after #VMEXIT. Whether its answers
// are the hypervisor's is package hv's test (hv/fastexit_test.go); this
// one checks the mechanism: lookups, RIP advance, what returns.

type fakeExit struct {
	code, info1, info2, rax, rflags, vintr, intInfo uint64
	rcx                                             uint64
}

// newFakeVMCB is a VMCB page mmap'd outside the Go heap, as the real ones
// are identity-mapped kernel pages.
func newFakeVMCB(t *testing.T, e fakeExit) (VMCB, *Regs, []byte) {
	t.Helper()
	page, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(page) })
	v := VMCB{PA: addrOf(&page[0])}
	v.Set(offExitCode, e.code)
	v.Set(offExitInfo1, e.info1)
	v.Set(offExitInfo2, e.info2)
	v.Set(offRAX, e.rax)
	v.Set(offRIP, 0x1000)
	v.Set(offRFLAGS, e.rflags|x86.RFLAGSMBS)
	v.Set(offVIntr, e.vintr)
	v.Set(offExitIntInfo, e.intInfo)
	v.Set(offIntShadow, intShadow) // as after sti; <the instruction>
	return v, &Regs{RCX: e.rcx, RBX: 0xbbbb, RDX: 0xdddd}, page
}

var enosys = ^uint64(37) // -38 as a register holds it

func testFast() *Fast {
	f := &Fast{}
	f.Policy(true, 1<<1|1<<29, enosys, 0xe9)
	f.AnswerHLT(true)
	f.SetCPUID([]CPUIDEntry{
		{Leaf: 0, AnySub: 1, EAX: 0xd, EBX: 1, ECX: 2, EDX: 3},
		{Leaf: 7, Sub: 0, EAX: 70, EBX: 71, ECX: 72, EDX: 73},
		{Leaf: 7, Sub: 1, EAX: 0x7a},
		{Leaf: 0x40000000, AnySub: 1, EAX: 0x40000010},
		{Leaf: 0x8000002f, AnySub: 1, EDX: 0xffffffff},
	})
	return f
}

func TestFastExit(t *testing.T) {
	ioOut := func(port uint16, size int) uint64 { return IOIO{Port: port, Size: size}.Encode() }
	ioIn := func(port uint16, size int) uint64 { return IOIO{In: true, Port: port, Size: size}.Encode() }
	uartWord := func(w uint32) func(*Fast) {
		return func(f *Fast) { f.UART(0x3f8, &w) }
	}
	type want struct {
		taken         bool
		rip, rax      uint64
		rbx, rcx, rdx uint64
		console       string
	}
	var noChange want // returned: the guest state as the exit left it
	for _, tc := range []struct {
		name  string
		e     fakeExit
		setup func(f *Fast)
		want  want
	}{
		{"cpuid-0", fakeExit{code: ExitCPUID, rax: 0, rcx: 99}, nil,
			want{true, 0x1002, 0xd, 1, 2, 3, ""}},
		{"cpuid-rax-high-bits", fakeExit{code: ExitCPUID, rax: 0xffffffff_00000000, rcx: 0}, nil,
			want{true, 0x1002, 0xd, 1, 2, 3, ""}},
		{"cpuid-7.0", fakeExit{code: ExitCPUID, rax: 7, rcx: 0}, nil, want{true, 0x1002, 70, 71, 72, 73, ""}},
		{"cpuid-7.1", fakeExit{code: ExitCPUID, rax: 7, rcx: 1}, nil, want{true, 0x1002, 0x7a, 0, 0, 0, ""}},
		{"cpuid-7.2-absent", fakeExit{code: ExitCPUID, rax: 7, rcx: 2}, nil, noChange},
		{"cpuid-1-absent", fakeExit{code: ExitCPUID, rax: 1}, nil, noChange},
		{"cpuid-hyper", fakeExit{code: ExitCPUID, rax: 0x40000000}, nil, want{true, 0x1002, 0x40000010, 0, 0, 0, ""}},
		{"cpuid-ext-last", fakeExit{code: ExitCPUID, rax: 0x8000002f}, nil, want{true, 0x1002, 0, 0, 0, 0xffffffff, ""}},
		{"cpuid-unindexed", fakeExit{code: ExitCPUID, rax: 0x80000030}, nil, noChange},
		{"cpuid-off", fakeExit{code: ExitCPUID}, func(f *Fast) { f.on = 0 }, noChange},
		{"cpuid-stopped", fakeExit{code: ExitCPUID}, func(f *Fast) { f.Stop() }, noChange},
		{"cpuid-redeliver", fakeExit{code: ExitCPUID, intInfo: uint64(Exception(14, true, 2))}, nil, noChange},
		{"cpuid-intinfo-echo", fakeExit{code: ExitCPUID, intInfo: uint64(Exception(14, true, 2) &^ EventV)}, nil,
			want{true, 0x1002, 0xd, 1, 2, 3, ""}},
		{"null-hypercall", fakeExit{code: ExitVMMCALL, rax: 0xfff}, nil,
			want{true, 0x1003, enosys, 0xbbbb, 0, 0xdddd, ""}},
		{"unused-hypercall", fakeExit{code: ExitVMMCALL, rax: 2}, nil,
			want{true, 0x1003, enosys, 0xbbbb, 0, 0xdddd, ""}},
		{"go-hypercall", fakeExit{code: ExitVMMCALL, rax: 29}, nil, noChange},
		{"hypercall-64", fakeExit{code: ExitVMMCALL, rax: 64}, nil,
			want{true, 0x1003, enosys, 0xbbbb, 0, 0xdddd, ""}},
		{"hypercall-2^32+1", fakeExit{code: ExitVMMCALL, rax: 1<<32 | 1}, nil,
			want{true, 0x1003, enosys, 0xbbbb, 0, 0xdddd, ""}},
		{"out-e9", fakeExit{code: ExitIOIO, info1: ioOut(0xe9, 1), info2: 0x1002, rax: 0x4178}, nil,
			want{true, 0x1002, 0x4178, 0xbbbb, 0, 0xdddd, "x"}},
		{"out-e9-dword", fakeExit{code: ExitIOIO, info1: ioOut(0xe9, 4), info2: 0x1001, rax: 0x41424344}, nil,
			want{true, 0x1001, 0x41424344, 0xbbbb, 0, 0xdddd, "D"}},
		{"out-e9-newline", fakeExit{code: ExitIOIO, info1: ioOut(0xe9, 1), info2: 0x1002, rax: '\n'}, nil,
			noChange},
		{"out-e9-full", fakeExit{code: ExitIOIO, info1: ioOut(0xe9, 1), info2: 0x1002, rax: 'y'},
			func(f *Fast) { f.conLen = ConsoleMax }, noChange},
		{"out-80", fakeExit{code: ExitIOIO, info1: ioOut(0x80, 1), info2: 0x1002}, nil, noChange},
		{"in-e9", fakeExit{code: ExitIOIO, info1: IOIO{In: true, Port: 0xe9, Size: 1}.Encode(), info2: 0x1002}, nil, noChange},
		{"outsb-e9", fakeExit{code: ExitIOIO, info1: IOIO{Str: true, Port: 0xe9, Size: 1}.Encode(), info2: 0x1001}, nil, noChange},
		{"uart-thr", fakeExit{code: ExitIOIO, info1: ioOut(0x3f8, 1), info2: 0x1001, rax: 0x4161}, uartWord(UARTTHR),
			want{true, 0x1001, 0x4161, 0xbbbb, 0, 0xdddd, "a"}},
		{"uart-thr-not-allowed", fakeExit{code: ExitIOIO, info1: ioOut(0x3f8, 1), info2: 0x1001, rax: 'a'}, uartWord(UARTLSR | 0x60),
			noChange},
		{"uart-thr-word", fakeExit{code: ExitIOIO, info1: ioOut(0x3f8, 2), info2: 0x1002, rax: 'a'}, uartWord(UARTTHR),
			noChange},
		{"uart-thr-newline", fakeExit{code: ExitIOIO, info1: ioOut(0x3f8, 1), info2: 0x1001, rax: '\n'}, uartWord(UARTTHR),
			noChange},
		{"uart-thr-full", fakeExit{code: ExitIOIO, info1: ioOut(0x3f8, 1), info2: 0x1001, rax: 'a'},
			func(f *Fast) { uartWord(UARTTHR)(f); f.conLen = ConsoleMax }, noChange},
		{"uart-thr-no-uart", fakeExit{code: ExitIOIO, info1: ioOut(0x3f8, 1), info2: 0x1001, rax: 'a'}, nil, noChange},
		{"uart-ier", fakeExit{code: ExitIOIO, info1: ioOut(0x3f9, 1), info2: 0x1001}, uartWord(UARTTHR | UARTLSR), noChange},
		{"uart-lsr", fakeExit{code: ExitIOIO, info1: ioIn(0x3fd, 1), info2: 0x1001, rax: 0x12345678}, uartWord(UARTLSR | 0x61),
			want{true, 0x1001, 0x12345661, 0xbbbb, 0, 0xdddd, ""}},
		{"uart-lsr-not-allowed", fakeExit{code: ExitIOIO, info1: ioIn(0x3fd, 1), info2: 0x1001}, uartWord(UARTTHR | 0x60),
			noChange},
		{"uart-lsr-dword", fakeExit{code: ExitIOIO, info1: ioIn(0x3fd, 4), info2: 0x1001}, uartWord(UARTLSR | 0x60),
			noChange},
		{"uart-rbr", fakeExit{code: ExitIOIO, info1: ioIn(0x3f8, 1), info2: 0x1001}, uartWord(UARTLSR | 0x61), noChange},
		{"uart-lsr-no-uart", fakeExit{code: ExitIOIO, info1: ioIn(0x3fd, 1), info2: 0x1001}, nil, noChange},
		{"uart-lsr-single-step", fakeExit{code: ExitIOIO, info1: ioIn(0x3fd, 1), info2: 0x1001, rflags: x86.RFLAGSTF},
			uartWord(UARTLSR | 0x60), noChange},
		{"hlt-idle", fakeExit{code: ExitHLT, rflags: x86.RFLAGSIF}, nil, noChange},
		{"hlt-offered", fakeExit{code: ExitHLT, rflags: x86.RFLAGSIF, vintr: vIRQ},
			func(f *Fast) { f.Entry(true, false) }, want{true, 0x1001, 0, 0xbbbb, 0, 0xdddd, ""}},
		{"hlt-offered-not-answered", fakeExit{code: ExitHLT, rflags: x86.RFLAGSIF, vintr: vIRQ},
			func(f *Fast) { f.Entry(true, false); f.AnswerHLT(false) }, noChange},
		{"offered-taken", fakeExit{code: ExitCPUID, rflags: x86.RFLAGSIF},
			func(f *Fast) { f.Entry(true, false) }, noChange},
		{"offered-if-off", fakeExit{code: ExitCPUID, vintr: vIRQ},
			func(f *Fast) { f.Entry(true, false) }, noChange},
		{"offered-pending", fakeExit{code: ExitCPUID, rflags: x86.RFLAGSIF, vintr: vIRQ},
			func(f *Fast) { f.Entry(true, false) }, want{true, 0x1002, 0xd, 1, 2, 3, ""}},
		{"window-if-off", fakeExit{code: ExitCPUID, vintr: vIRQ},
			func(f *Fast) { f.Entry(true, false); f.Window(true) }, want{true, 0x1002, 0xd, 1, 2, 3, ""}},
		{"window-if-off-taken", fakeExit{code: ExitCPUID},
			func(f *Fast) { f.Entry(true, false); f.Window(true) }, noChange},
		{"window-if-on", fakeExit{code: ExitCPUID, rflags: x86.RFLAGSIF, vintr: vIRQ},
			func(f *Fast) { f.Entry(true, false); f.Window(true) }, want{true, 0x1002, 0xd, 1, 2, 3, ""}},
		{"held-if-on", fakeExit{code: ExitCPUID, rflags: x86.RFLAGSIF},
			func(f *Fast) { f.Entry(false, true) }, noChange},
		{"held-if-off", fakeExit{code: ExitCPUID},
			func(f *Fast) { f.Entry(false, true) }, want{true, 0x1002, 0xd, 1, 2, 3, ""}},
		{"cpuid-single-step", fakeExit{code: ExitCPUID, rflags: x86.RFLAGSTF}, nil, noChange},
		{"out-e9-single-step", fakeExit{code: ExitIOIO, info1: ioOut(0xe9, 1), info2: 0x1002, rax: 'x', rflags: x86.RFLAGSTF},
			nil, noChange},
		{"intr", fakeExit{code: ExitINTR}, nil, noChange},
		{"msr", fakeExit{code: ExitMSR}, nil, noChange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testFast()
			if tc.setup != nil {
				tc.setup(f)
			}
			v, regs, page := newFakeVMCB(t, tc.e)
			w := tc.want
			if !w.taken {
				w = want{false, 0x1000, tc.e.rax, 0xbbbb, tc.e.rcx, 0xdddd, string(f.Console())}
			}
			taken := f.Handle(v, regs)
			got := want{taken, v.RIP(), v.RAX(), regs.RBX, regs.RCX, regs.RDX, string(f.Console())}
			if got != w {
				t.Errorf("got %+v, want %+v", got, w)
			}
			if v.InterruptShadow() == taken {
				t.Errorf("interrupt shadow %v after the exit was taken: %v (a completed instruction ends it)", v.InterruptShadow(), taken)
			}
			if n := f.TakeExits(); n != uint64(b32(taken)) {
				t.Errorf("exits counted %d, taken %v", n, taken)
			}
			_ = page
		})
	}
}

func TestFastConsoleOrder(t *testing.T) {
	f := testFast()
	for _, c := range []byte("hello") {
		v, regs, page := newFakeVMCB(t, fakeExit{code: ExitIOIO, info1: IOIO{Port: 0xe9, Size: 1}.Encode(),
			info2: 0x1002, rax: uint64(c)})
		if !f.Handle(v, regs) {
			t.Fatalf("byte %q not taken", c)
		}
		_ = page
	}
	if got := string(f.Console()); got != "hello" {
		t.Fatalf("console %q", got)
	}
	f.ClearConsole()
	if len(f.Console()) != 0 {
		t.Fatal("ClearConsole left bytes")
	}
}

// The UART's word is read at each exit: a change by the model between two
// exits of one run decides the second.
func TestFastUARTWordChanges(t *testing.T) {
	f := testFast()
	word := uint32(UARTTHR)
	f.UART(0x3f8, &word)
	thr := fakeExit{code: ExitIOIO, info1: IOIO{Port: 0x3f8, Size: 1}.Encode(), info2: 0x1001, rax: 'a'}
	v, regs, _ := newFakeVMCB(t, thr)
	if !f.Handle(v, regs) {
		t.Fatal("THR write not taken with UARTTHR set")
	}
	word = UARTLSR | 0x60 // the guest turned the THRE interrupt on
	v, regs, _ = newFakeVMCB(t, thr)
	if f.Handle(v, regs) {
		t.Fatal("THR write taken after the word dropped UARTTHR")
	}
	f.UART(0, nil)
	v, regs, _ = newFakeVMCB(t, fakeExit{code: ExitIOIO, info1: IOIO{In: true, Port: 5, Size: 1}.Encode(), info2: 0x1001})
	if f.Handle(v, regs) {
		t.Fatal("an IN from port 5 was taken with no UART")
	}
}

func TestSetCPUID(t *testing.T) {
	f := &Fast{}
	es := []CPUIDEntry{{Leaf: 1}, {Leaf: 2}, {Leaf: 1, Sub: 1}, {Leaf: 0x20000000}}
	for i := 0; i < MaxCPUID+5; i++ {
		es = append(es, CPUIDEntry{Leaf: 3, Sub: uint32(i)})
	}
	if n := f.SetCPUID(es); n != MaxCPUID {
		t.Fatalf("kept %d entries, want %d (non-adjacent and unindexed ones dropped, then the table full)", n, MaxCPUID)
	}
	if f.cpuid[2].Leaf != 3 {
		t.Fatalf("entry 2 is leaf %#x, want 3 (1.1 is not adjacent to leaf 1)", f.cpuid[2].Leaf)
	}
}
