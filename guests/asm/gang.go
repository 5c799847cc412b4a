package asm

import (
	"encoding/binary"
	"strings"

	"grove/hv/abi"
	"grove/x86"
)

// Guests that watch how they are scheduled, for the QEMU tests and benches
// of scheduling groups (qemu/gang_test.go, docs/scheduling.md). They are
// not built-in guests: the tests give them vCPUs and put them in groups
// through a boot bundle and grovectl.
//
// Time is the TSC (one clock for every domain and CPU: Grove gives each
// CPU's guests the boot CPU's TSC) shifted right by tShift, "T", whose low
// 32 bits wrap only every few minutes. A guest loops without exits; a step
// of its loop longer than the gap threshold means its vCPU was off its CPU
// in between, and the step's end is a slice start.

const tShift = 8

// nowT sets EAX to the TSC in T (clobbers EDX).
func (p *Prog) nowT() *Prog { return p.RDTSC().ShrdImm(EAX, EDX, tShift) }

// tOfMS sets EAX to ms milliseconds in T, from Grove's CPUID leaf of the
// TSC's kHz (clobbers EBX, ECX, EDX).
func (p *Prog) tOfMS(ms uint32) *Prog {
	p.Mov(EAX, abi.CPUIDTiming).Mov(ECX, 0).CPUID()
	return p.ShrImm(EAX, tShift).IMulImm(EAX, ms)
}

// printWords prints text with each "%" replaced by the 32-bit word at the
// matching address, in hex (clobbers EAX-EDI; 32-bit code only).
func (p *Prog) printWords(id, text string, words ...uint32) *Prog {
	parts := strings.Split(text, "%")
	line := strings.Join(parts, "00000000")
	buf := p.Data([]byte(line))
	off := uint32(0)
	for i, w := range words {
		off += uint32(len(parts[i]))
		p.Load(w).hexAt(buf+off, id+string(rune('a'+i)))
		off += 8
	}
	return p.hypercall(abi.ConsoleIO, abi.ConsoleWrite, uint32(len(line)), buf)
}

// put32 and put64 patch the data area at guest address a.
func (p *Prog) put32(a, v uint32) { binary.LittleEndian.PutUint32(p.data[a-DataBase:], v) }
func (p *Prog) put64(a uint32, v uint64) {
	binary.LittleEndian.PutUint64(p.data[a-DataBase:], v)
}

// Slices is a 1-vCPU guest that records every break in its run (a loop
// step longer than gapMS), so that a test can lay the runs of several
// domains side by side. Printing goes through the UART and QEMU's big lock,
// and much of it disturbs what is measured (QEMU's vCPU threads wait for
// that lock to take interrupts), so the guest keeps its records and prints
// them only after a break of dumpMS or more (the test pauses it), or when
// they fill its buffer. Meanwhile it prints only a short line every tickMS,
// which lets the test map its own clock to T. Lines, in T:
//
//	slices: T/s N          first: the T in a second
//	tick NOW               every tickMS
//	dump NOW               the records so far (NOW: when printing began):
//	gap PREV NEXT          a break: its last loop step before, first after
//	busy A B               a time spent printing, in which its run is unknown
//	end                    the dump is over
func Slices(gapMS, tickMS, dumpMS uint32) ([]byte, error) {
	p := New()
	word := func() uint32 { return p.Data(make([]byte, 4)) }
	prev, now, gap, every, next, dumpGap, n, at, idx, cnt := word(), word(), word(), word(), word(), word(), word(), word(), word(), word()
	const capacity, chunk = 2048, 128 // records kept; records per console write
	recs := p.Data(make([]byte, 12*capacity))
	buf := p.Data(make([]byte, abi.ConsoleMax))
	tab := p.Data([]byte("0123456789abcdef"))
	// record appends (kind, [a], [b]); kind 0 is a break, 1 busy.
	record := func(kind, a, b uint32) {
		p.Load(n).IMulImm(EAX, 12).MovRR(EDX, EAX).SetAt(EDX, recs, kind)
		p.Load(a).StoreAt(EDX, recs+4, EAX).Load(b).StoreAt(EDX, recs+8, EAX)
		p.Load(n).Inc(EAX).Store(n)
	}
	p.tOfMS(1000).Store(now)
	p.printWords("s", "slices: T/s %\n", now)
	p.tOfMS(gapMS).Store(gap)
	p.tOfMS(tickMS).Store(every)
	p.tOfMS(dumpMS).Store(dumpGap)
	p.nowT().Store(prev).Mov(EDX, 0).AddAt(EAX, EDX, every).Store(next)

	p.Label("loop").nowT().Store(now).MovRR(ECX, EAX).Mov(EDX, 0).SubAt(ECX, EDX, prev)
	p.CmpAt(ECX, EDX, gap).Jbe("step")
	record(0, prev, now)
	p.Load(now).Mov(EDX, 0).SubAt(EAX, EDX, prev).CmpAt(EAX, EDX, dumpGap).Jae("dump")
	p.Label("step").Load(n).CmpImm(EAX, capacity).Jae("dump")
	p.Load(now).Store(prev).Mov(EDX, 0).SubAt(EAX, EDX, next).Js("loop")
	// A tick; a long one is recorded as busy rather than seen as a break.
	p.printWords("t", "tick %\n", now)
	p.nowT().Store(prev).Mov(EDX, 0).SubAt(EAX, EDX, now).CmpAt(EAX, EDX, gap).Jbe("ticked")
	record(1, now, prev)
	p.Label("ticked").Load(prev).Mov(EDX, 0).AddAt(EAX, EDX, every).Store(next).Jmp("loop")

	p.Label("dump").Load(now).Store(at)
	p.printWords("d", "dump %\n", at)
	p.Mov(EAX, 0).Store(idx)
	p.Label("chunk").Load(idx).Mov(EDX, 0).CmpAt(EAX, EDX, n).Jae("dumped")
	p.Mov(EDI, buf).Mov(EAX, 0).Store(cnt)
	p.Label("rec").Load(idx).IMulImm(EAX, 12).MovRR(EDX, EAX)
	p.CmpAtImm(EDX, recs, 0).Jnz("busy").PutEDI("gap ").Jmp("vals")
	p.Label("busy").PutEDI("busy ")
	p.Label("vals").LoadAt(EAX, EDX, recs+4).hexEDI(tab, "a").PutEDI(" ")
	p.LoadAt(EAX, EDX, recs+8).hexEDI(tab, "b").PutEDI("\n")
	p.Load(idx).Inc(EAX).Store(idx).Load(cnt).Inc(EAX).Store(cnt).CmpImm(EAX, chunk).Jae("flush")
	p.Load(idx).Mov(EDX, 0).CmpAt(EAX, EDX, n).Jb("rec")
	p.Label("flush").MovRR(ESI, EDI).AddImm(ESI, -buf)
	p.Mov(EAX, abi.ConsoleIO).Mov(EDI, abi.ConsoleWrite).Mov(EDX, buf).VMMCALL().Jmp("chunk")
	// The dump is the first record of the next one.
	p.Label("dumped").write("end\n").Mov(EAX, 0).Store(n).nowT().Store(prev)
	record(1, at, prev)
	p.Load(prev).Mov(EDX, 0).AddAt(EAX, EDX, every).Store(next).Jmp("loop")
	return p.Image()
}

// Tally is a 1-vCPU guest doing fixed units of CPU-bound work (unit
// iterations of a register loop each, like Work) and printing
// "tally UNITS T" every reportMS (first line: "tally: T/s N"): the work
// done per second, for comparing scheduling policies' throughput.
func Tally(unit, reportMS uint32) ([]byte, error) {
	p := New()
	units, next, every, now := p.Data(make([]byte, 4)), p.Data(make([]byte, 4)), p.Data(make([]byte, 4)), p.Data(make([]byte, 4))
	p.tOfMS(1000).Store(now)
	p.printWords("s", "tally: T/s %\n", now)
	p.tOfMS(reportMS).Store(every)
	p.nowT().Mov(EDX, 0).AddAt(EAX, EDX, every).Store(next)
	p.Label("loop").Mov(ECX, unit)
	p.Label("inner").Dec(ECX).Jnz("inner")
	p.Load(units).Inc(EAX).Store(units)
	p.nowT().Store(now).Mov(EDX, 0).SubAt(EAX, EDX, next).Js("loop")
	p.printWords("t", "tally % %\n", units, now)
	p.Load(now).Mov(EDX, 0).AddAt(EAX, EDX, every).Store(next).Jmp("loop")
	return p.Image()
}

// Offsets in a GangProbe vCPU's state block.
const (
	pbCount    = 0  // its progress counter, one per loop step
	pbPrev     = 4  // T of its last loop step
	pbT0       = 8  // T of its current run's start
	pbSib0     = 12 // the sibling's counter just after that start
	pbPending  = 16 // where that start's verdict is (pend*)
	pbStarts   = 20 // slice starts seen
	pbTogether = 24 // ... whose run saw the sibling's counter move
	pbAlone    = 28 // ... whose run of the bound or more did not
	pbSibPtr   = 32 // address of the sibling's counter
	pbGap      = 36 // T: a longer step is a slice start
	pbBound    = 40 // T: a run this long without the sibling moving was alone
	pbNext     = 44 // T of the next report (vCPU 0)
	pbEvery    = 48 // T between reports; 0: this vCPU does not report
	pbBusy     = 52 // odd while this vCPU prints (a console write can be long)
	pbSibBusy  = 56 // address of the sibling's pbBusy
	pbBusy0    = 60 // the sibling's pbBusy at the reference read
	pbSize     = 64
)

// GangProbe is a 2-vCPU guest that checks whether its vCPUs run together.
// Each loops incrementing its own counter and reading the TSC; at every
// slice start (a break longer than gapMS) it notes the sibling's counter,
// and if the counter moves before its run ends, the sibling ran too
// ("together"); a run of at least boundMS in which it did not move was
// "alone"; a shorter one stays undecided. Every reportMS vCPU 0 prints both
// vCPUs' counters,
// "gangprobe: starts S0 S1 together T0 T1 alone A0 A1 work C0 C1".
//
// vCPU 1 starts in long mode (vcpu_op's only start state) with identity
// paging of the first 2 MiB, and runs the same loop as vCPU 0 does in
// protected mode: the loop uses only instructions encoded alike in both
// (modrm.go), with RBX = its state block.
func GangProbe(gapMS, boundMS, reportMS uint32) ([]byte, error) {
	p := New()
	b0 := p.Data(make([]byte, 2*pbSize))
	b1 := b0 + pbSize
	p.put32(b0+pbSibPtr, b1+pbCount)
	p.put32(b1+pbSibPtr, b0+pbCount)
	p.put32(b0+pbSibBusy, b1+pbBusy)
	p.put32(b1+pbSibBusy, b0+pbBusy)
	ctx := p.Data(abi.VCPUContext{Mode: abi.VCPUMode64, RSP: StackTop - 0x1000, RBX: uint64(b1),
		RFLAGS: x86.RFLAGSMBS, CR0: x86.CR0PE | x86.CR0PG, CR3: uint64(identityMap(p)),
		CR4: x86.CR4PAE, EFER: x86.EFERLME}.Encode())
	for _, f := range []struct {
		ms  uint32
		off []uint32
	}{{gapMS, []uint32{b0 + pbGap, b1 + pbGap}}, {boundMS, []uint32{b0 + pbBound, b1 + pbBound}}, {reportMS, []uint32{b0 + pbEvery}}} {
		p.tOfMS(f.ms)
		for _, a := range f.off {
			p.Store(a)
		}
	}
	p.nowT().Mov(EBX, b0).AddAt(EAX, EBX, pbEvery).StoreAt(EBX, pbNext, EAX)
	p.MovLabel(EAX, "enter").Store(ctx + 8) // VCPUContext.RIP
	p.hypercall(abi.VCPUOp, abi.VCPUOpInitialise, 1, ctx).TestRR(EAX, EAX).Jnz("fail")
	p.hypercall(abi.VCPUOp, abi.VCPUOpUp, 1, 0).TestRR(EAX, EAX).Jnz("fail")
	p.write("gangprobe: 2 vCPUs up\n")
	p.Mov(EBX, b0)
	p.Label("enter").nowT().StoreAt(EBX, pbPrev, EAX)
	p.probeLoop()
	p.Label("report") // vCPU 0 only: protected mode
	p.LoadAt(ECX, EBX, pbNext).AddAt(ECX, EBX, pbEvery).StoreAt(EBX, pbNext, ECX).IncAt(EBX, pbBusy)
	var words []uint32
	for _, f := range []uint32{pbStarts, pbTogether, pbAlone, pbCount} {
		words = append(words, b0+f, b1+f)
	}
	p.printWords("r", "gangprobe: starts % % together % % alone % % work % %\n", words...)
	p.Mov(EBX, b0).IncAt(EBX, pbBusy).Jmp("loop")
	p.Label("fail").printHex("gangprobe: vcpu_op failed ", "f").poweroff()
	return p.Image()
}

// probeLoop is GangProbe's loop, run by both vCPUs (RBX: own block). Each
// step reads the sibling's counter, then the TSC: a step no longer than the
// gap threshold ran without a break, so two counter reads in steps of one
// run were both made while this vCPU ran, and a change between them means
// the sibling ran meanwhile ("together"). The reference read is the first
// step after the start (the start's own step may have read the counter
// before the break). A run that ends unchanged is "alone" if it lasted the
// bound, unless the sibling printed meanwhile (in the hypervisor, which
// does not tell about scheduling).
func (p *Prog) probeLoop() {
	p.Label("loop").IncAt(EBX, pbCount)
	p.LoadAt(ESI, EBX, pbSibPtr).LoadAt(ESI, ESI, 0).nowT()
	p.MovRR(ECX, EAX).SubAt(ECX, EBX, pbPrev).CmpAt(ECX, EBX, pbGap).Ja("start")
	p.StoreAt(EBX, pbPrev, EAX)
	p.CmpAtImm(EBX, pbPending, pendRef).Jnz("check")
	p.StoreAt(EBX, pbSib0, ESI).LoadAt(EDX, EBX, pbSibBusy).LoadAt(EDX, EDX, 0).StoreAt(EBX, pbBusy0, EDX)
	p.SetAt(EBX, pbPending, pendWait).Jmp("tail")
	p.Label("check").CmpAtImm(EBX, pbPending, pendWait).Jnz("tail")
	p.CmpAt(ESI, EBX, pbSib0).Jz("tail")
	p.IncAt(EBX, pbTogether).SetAt(EBX, pbPending, pendNone).Jmp("tail")
	// A break: the run before it ends at the last step (pbPrev).
	p.Label("start").CmpAtImm(EBX, pbPending, pendWait).Jnz("fresh")
	p.LoadAt(ECX, EBX, pbPrev).SubAt(ECX, EBX, pbT0).CmpAt(ECX, EBX, pbBound).Jb("fresh")
	p.LoadAt(EDX, EBX, pbSibBusy).LoadAt(EDX, EDX, 0).CmpAt(EDX, EBX, pbBusy0).Jnz("fresh")
	p.AndImm(EDX, 1).Jnz("fresh")
	p.IncAt(EBX, pbAlone)
	p.Label("fresh").StoreAt(EBX, pbPrev, EAX).IncAt(EBX, pbStarts).StoreAt(EBX, pbT0, EAX)
	p.SetAt(EBX, pbPending, pendRef)
	p.Label("tail").CmpAtImm(EBX, pbEvery, 0).Jz("loop")
	p.MovRR(ECX, EAX).SubAt(ECX, EBX, pbNext).Js("loop").Jmp("report")
}

// A GangProbe start's verdict (pbPending).
const (
	pendNone = 0 // decided, or no start yet
	pendRef  = 1 // the next step takes the reference read
	pendWait = 2 // watching the sibling's counter
)

// identityMap builds 4-level page tables mapping the first 2 MiB (code,
// data, stack) to themselves with one large page, and returns the PML4's
// address. AMD APM vol. 2, 5.3.
func identityMap(p *Prog) uint32 {
	pml4 := p.Page(make([]byte, 4096))
	pdpt := p.Page(make([]byte, 4096))
	pd := p.Page(make([]byte, 4096))
	const present, writable, large = 1, 2, 0x80
	p.put64(pml4, uint64(pdpt)|present|writable)
	p.put64(pdpt, uint64(pd)|present|writable)
	p.put64(pd, present|writable|large)
	return pml4
}
