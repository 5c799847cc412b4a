package svm

import "grove/x86"

// GuestInit is a new vCPU's start state.
type GuestInit struct {
	ASID                                 uint32
	NCR3                                 uint64
	Entry                                uint64
	CodeAttr, DataAttr, TSSAttr, LDTAttr uint16
	IOPM                                 uintptr // the vCPU's I/O permission map (iopm.go); 0: the shared one
}

const (
	npEnable   = 1
	defaultPAT = 0x0007040600070406
)

// InitGuest fills a zeroed VMCB for a guest starting in 32-bit protected
// mode without paging (the PVH entry state) under nested paging. It sets
// no intercepts: the caller chooses them (SetIntercepts).
func InitGuest(v VMCB, g GuestInit) {
	if g.IOPM != 0 {
		v.Set(offIOPM, uint64(g.IOPM))
	} else {
		v.Set(offIOPM, uint64(iopm))
	}
	v.Set(offMSRPM, uint64(msrpm))
	*v.u32(offASID) = g.ASID
	v.FlushTLB(true)
	v.Set(offVIntr, vIntrMasking)
	v.Set(offNPEnable, npEnable)
	v.Set(offNCR3, g.NCR3)
	v.Set(offGPAT, defaultPAT)

	flat := Segment{Limit: 0xffffffff}
	code, data := flat, flat
	code.Selector, code.Attrib = 0x08, g.CodeAttr
	data.Selector, data.Attrib = 0x10, g.DataAttr
	v.setSeg(offCS, code)
	for _, off := range []uintptr{offDS, offES, offSS, offFS, offGS} {
		v.setSeg(off, data)
	}
	v.setSeg(offTR, Segment{Attrib: g.TSSAttr, Limit: 0x67})
	v.setSeg(offLDTR, Segment{Attrib: g.LDTAttr})
	v.setSeg(offGDTR, Segment{Limit: 0xffff})
	v.setSeg(offIDTR, Segment{}) // no IDT yet: an early exception shuts the vCPU down
	v.Set(offCR0, x86.CR0PE|x86.CR0ET|x86.CR0NE)
	v.Set(offEFER, x86.EFERSVME) // VMRUN requires SVME in the guest's EFER
	v.Set(offRFLAGS, x86.RFLAGSMBS)
	v.Set(offRIP, g.Entry)
	v.Set(offDR6, 0xffff0ff0)
	v.Set(offDR7, 0x400)
}

// Guest MSRs the VMCB holds and VMLOAD/VMSAVE switch, so the guest may
// access them without exits (APM table B-2, 15.5.2).
const (
	offSTAR         = 0x600
	offLSTAR        = 0x608
	offCSTAR        = 0x610
	offSFMASK       = 0x618
	offKernelGSBase = 0x620
)

// SetIntercepts sets the instruction and event intercept vectors (VMCB
// offsets 0x0c and 0x10; the Intercept constants).
func (v VMCB) SetIntercepts(misc1, misc2 uint32) {
	*v.u32(offInterceptMisc1) = misc1
	*v.u32(offInterceptMisc2) = misc2
}

// SetExceptionIntercepts sets the exception intercepts (VMCB offset 0x08,
// bit n for vector n).
func (v VMCB) SetExceptionIntercepts(vectors uint32) { *v.u32(offInterceptExc) = vectors }

// SetCRIntercepts sets the CR read and write intercepts (VMCB offset 0x00;
// the InterceptCR constants).
func (v VMCB) SetCRIntercepts(crs uint32) { *v.u32(offInterceptCR) = crs }

// SetEFER writes the guest's EFER; SVME stays set, which VMRUN requires
// (APM vol. 2, 15.5.1), whatever the guest asked for.
func (v VMCB) SetEFER(x uint64) { v.Set(offEFER, x|x86.EFERSVME) }

// CR2 is the guest's CR2.
func (v VMCB) CR2() uint64 { return v.Get(offCR2) }

// LongModeState is a vCPU's 64-bit start state (a secondary vCPU brought up
// with vcpu_op): paging on with the guest's own tables.
type LongModeState struct {
	RIP, RSP, RFLAGS    uint64
	CR0, CR3, CR4, EFER uint64
	FSBase, GSBase      uint64
	CodeAttr, DataAttr  uint16 // 64-bit code (L=1) and data descriptors
}

// SetLongMode replaces the start state of an initialised VMCB (InitGuest)
// with s: flat selectors 0x08 and 0x10, EFER.LMA and LME set as a long-mode
// CPU has them.
func (v VMCB) SetLongMode(s LongModeState) {
	code := Segment{Selector: 0x08, Attrib: s.CodeAttr, Limit: 0xffffffff}
	data := Segment{Selector: 0x10, Attrib: s.DataAttr, Limit: 0xffffffff}
	v.setSeg(offCS, code)
	for _, off := range []uintptr{offDS, offES, offSS} {
		v.setSeg(off, data)
	}
	fs, gs := data, data
	fs.Base, gs.Base = s.FSBase, s.GSBase
	v.setSeg(offFS, fs)
	v.setSeg(offGS, gs)
	v.Set(offCR0, s.CR0)
	v.Set(offCR3, s.CR3)
	v.Set(offCR4, s.CR4)
	v.SetEFER(s.EFER | x86.EFERLME | x86.EFERLMA)
	v.Set(offRFLAGS, s.RFLAGS)
	v.Set(offRIP, s.RIP)
	v.Set(offRSP, s.RSP)
	v.FlushTLB(true)
}

// SetTSCOffset sets what the guest's TSC reads add to the host's (VMCB
// 0x50, APM vol. 2, 15.30.5).
func (v VMCB) SetTSCOffset(off int64) { v.Set(offTSCOffset, uint64(off)) }

// SetStartup replaces the start state of an initialised VMCB (InitGuest)
// with the one a local APIC's STARTUP IPI gives an application processor
// (Intel SDM vol. 3, 8.4.4; AMD APM vol. 2, 16.5): real mode at
// vector*0x1000, CS selector vector*0x100, RIP 0, every segment a 64 KiB
// real-mode segment, paging and protection off, as after INIT.
func (v VMCB) SetStartup(vector uint8) {
	data := Segment{Attrib: realData, Limit: 0xffff}
	for _, off := range []uintptr{offDS, offES, offSS, offFS, offGS} {
		v.setSeg(off, data)
	}
	v.setSeg(offCS, Segment{Selector: uint16(vector) << 8, Base: uint64(vector) << 12,
		Attrib: realCode, Limit: 0xffff})
	v.setSeg(offGDTR, Segment{Limit: 0xffff})
	v.setSeg(offIDTR, Segment{Limit: 0xffff})
	v.Set(offCR0, x86.CR0ET)
	v.Set(offCR3, 0)
	v.Set(offCR4, 0)
	v.SetEFER(0)
	v.Set(offRFLAGS, x86.RFLAGSMBS)
	v.Set(offRIP, 0)
	v.Set(offRSP, 0)
	v.FlushTLB(true)
}

// Real-mode segment attributes (VMCB format): present, accessed,
// read/write data and execute/read code, as after INIT.
const (
	realData = 0x93
	realCode = 0x9b
)
