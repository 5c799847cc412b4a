package svm

// VMCB control-area offsets (APM vol. 2, table B-1).
const (
	offInterceptCR    = 0x000
	offInterceptExc   = 0x008
	offInterceptMisc1 = 0x00c
	offInterceptMisc2 = 0x010
	offIOPM           = 0x040
	offMSRPM          = 0x048
	offTSCOffset      = 0x050
	offASID           = 0x058
	offTLBControl     = 0x05c
	offVIntr          = 0x060
	offIntShadow      = 0x068
	offExitCode       = 0x070
	offExitInfo1      = 0x078
	offExitInfo2      = 0x080
	offExitIntInfo    = 0x088
	offNPEnable       = 0x090
	offEventInj       = 0x0a8
	offNCR3           = 0x0b0
	offCleanBits      = 0x0c0
	offNextRIP        = 0x0c8
)

// VMCB state-save-area offsets (APM vol. 2, table B-2).
const (
	offES     = 0x400
	offCS     = 0x410
	offSS     = 0x420
	offDS     = 0x430
	offFS     = 0x440
	offGS     = 0x450
	offGDTR   = 0x460
	offLDTR   = 0x470
	offIDTR   = 0x480
	offTR     = 0x490
	offCPL    = 0x4cb
	offEFER   = 0x4d0
	offCR4    = 0x548
	offCR3    = 0x550
	offCR0    = 0x558
	offDR7    = 0x560
	offDR6    = 0x568
	offRFLAGS = 0x570
	offRIP    = 0x578
	offRSP    = 0x5d8
	offRAX    = 0x5f8
	offCR2    = 0x640
	offGPAT   = 0x668
)

// Intercept bits (table B-1): misc1 at 0x0c, misc2 at 0x10.
const (
	InterceptINTR     = 1 << 0
	InterceptNMI      = 1 << 1
	InterceptVINTR    = 1 << 4
	InterceptCPUID    = 1 << 18
	InterceptIRET     = 1 << 20
	InterceptHLT      = 1 << 24
	InterceptIOIO     = 1 << 27
	InterceptMSR      = 1 << 28
	InterceptShutdown = 1 << 31

	InterceptVMRUN   = 1 << 0
	InterceptVMMCALL = 1 << 1
	InterceptVMLOAD  = 1 << 2
	InterceptVMSAVE  = 1 << 3
	InterceptSTGI    = 1 << 4
	InterceptCLGI    = 1 << 5
	InterceptSKINIT  = 1 << 6

	// CR intercepts (offset 0x00): reads of CR0-15 in bits 0-15, writes
	// in bits 16-31.
	InterceptCR4Write = 1 << (16 + 4)
)

// Exit codes (APM vol. 2, appendix C).
const (
	ExitExcBase  = 0x40 // + vector
	ExitINTR     = 0x60
	ExitNMI      = 0x61
	ExitVINTR    = 0x64
	ExitCPUID    = 0x72
	ExitIRET     = 0x74
	ExitHLT      = 0x78
	ExitIOIO     = 0x7b
	ExitMSR      = 0x7c
	ExitShutdown = 0x7f
	ExitVMRUN    = 0x80
	ExitVMMCALL  = 0x81
	ExitVMLOAD   = 0x82
	ExitVMSAVE   = 0x83
	ExitSTGI     = 0x84
	ExitCLGI     = 0x85
	ExitSKINIT   = 0x86
	ExitCR4Write = 0x14 // CR writes are 0x10 + n
	ExitNPF      = 0x400
	ExitInvalid  = ^uint64(0)
)

// V_INTR fields (offset 0x60).
const (
	vIRQ          = 1 << 8
	vIntrPrioMask = 0xf << 16
	vIgnTPR       = 1 << 20
	vIntrMasking  = 1 << 24
)

// Segment is a VMCB segment register.
type Segment struct {
	Selector, Attrib uint16
	Limit            uint32
	Base             uint64
}

// VMCB is a 4 KiB-aligned, identity-mapped control block.
type VMCB struct{ PA uintptr }

func (v VMCB) u64(off uintptr) *uint64 { return at[uint64](v.PA + off) }
func (v VMCB) u32(off uintptr) *uint32 { return at[uint32](v.PA + off) }

// Get and Set read and write a 64-bit field.
func (v VMCB) Get(off uintptr) uint64    { return *v.u64(off) }
func (v VMCB) Set(off uintptr, x uint64) { *v.u64(off) = x }

func (v VMCB) setSeg(off uintptr, s Segment) {
	*at[Segment](v.PA + off) = s
}

// Seg reads a segment register.
func (v VMCB) Seg(off uintptr) Segment { return *at[Segment](v.PA + off) }

// Exported field accessors used by exit handling.
func (v VMCB) ExitCode() uint64      { return v.Get(offExitCode) }
func (v VMCB) ExitInfo1() uint64     { return v.Get(offExitInfo1) }
func (v VMCB) ExitInfo2() uint64     { return v.Get(offExitInfo2) }
func (v VMCB) ExitIntInfo() Event    { return Event(v.Get(offExitIntInfo)) }
func (v VMCB) RIP() uint64           { return v.Get(offRIP) }
func (v VMCB) SetRIP(x uint64)       { v.Set(offRIP, x) }
func (v VMCB) RAX() uint64           { return v.Get(offRAX) }
func (v VMCB) SetRAX(x uint64)       { v.Set(offRAX, x) }
func (v VMCB) RSP() uint64           { return v.Get(offRSP) }
func (v VMCB) RFLAGS() uint64        { return v.Get(offRFLAGS) }
func (v VMCB) SetRFLAGS(x uint64)    { v.Set(offRFLAGS, x) }
func (v VMCB) DR6() uint64           { return v.Get(offDR6) }
func (v VMCB) SetDR6(x uint64)       { v.Set(offDR6, x) }
func (v VMCB) CR0() uint64           { return v.Get(offCR0) }
func (v VMCB) CR3() uint64           { return v.Get(offCR3) }
func (v VMCB) CR4() uint64           { return v.Get(offCR4) }
func (v VMCB) SetCR4(x uint64)       { v.Set(offCR4, x) }
func (v VMCB) EFER() uint64          { return v.Get(offEFER) }
func (v VMCB) CS() Segment           { return v.Seg(offCS) }
func (v VMCB) InterruptShadow() bool { return v.Get(offIntShadow)&intShadow != 0 }

// ClearInterruptShadow ends the interrupt shadow (INTERRUPT_SHADOW, VMCB
// 0x68 bit 0) the guest had at its exit: the hypervisor completed the
// instruction in the shadow (after STI or MOV SS), so an interrupt may
// come before the next one, as on hardware (KVM does the same when it
// skips an instruction). Without it, `sti; hlt` completed by the
// hypervisor leaves the instruction after HLT in the shadow
// (docs/qemu-tcg.md).
func (v VMCB) ClearInterruptShadow() { v.Set(offIntShadow, v.Get(offIntShadow)&^intShadow) }

const intShadow = 1

// SetInterruptShadow sets or clears INTERRUPT_SHADOW (bit 0 of 0x68): the
// guest's first instruction after VMRUN is not interrupted.
func (v VMCB) SetInterruptShadow(on bool) {
	x := v.Get(offIntShadow) &^ 1
	if on {
		x |= 1
	}
	v.Set(offIntShadow, x)
}

// SetEventInj queues an event for the next VMRUN (APM 15.20).
func (v VMCB) SetEventInj(e Event) { v.Set(offEventInj, uint64(e)) }

// EventInj reads the pending injection.
func (v VMCB) EventInj() Event { return Event(v.Get(offEventInj)) }

// SetVIRQ asks for a virtual interrupt with vector vec (or clears it).
func (v VMCB) SetVIRQ(on bool, vec uint8) {
	x := v.Get(offVIntr) &^ (vIRQ | 0xff<<32 | vIntrPrioMask)
	if on {
		x |= vIRQ | uint64(vec)<<32 | vIntrPrioMask | vIgnTPR
	}
	v.Set(offVIntr, x)
}

// VIRQPending reports whether a virtual interrupt is still waiting.
func (v VMCB) VIRQPending() bool { return v.Get(offVIntr)&vIRQ != 0 }

// FlushTLB asks the next VMRUN to flush the guest's TLB entries.
func (v VMCB) FlushTLB(on bool) {
	b := at[uint8](v.PA + offTLBControl)
	if on {
		*b = 1
	} else {
		*b = 0
	}
}
