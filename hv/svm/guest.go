package svm

// GuestInit is a new vCPU's start state.
type GuestInit struct {
	ASID                                 uint32
	NCR3                                 uint64
	Entry                                uint64
	CodeAttr, DataAttr, TSSAttr, LDTAttr uint16
}

const (
	npEnable   = 1
	defaultPAT = 0x0007040600070406
	cr0PE      = 1 << 0
	cr0ET      = 1 << 4
	cr0NE      = 1 << 5
)

// InitGuest fills a zeroed VMCB for a guest starting in 32-bit protected
// mode without paging (the PVH entry state) under nested paging.
func InitGuest(v VMCB, g GuestInit) {
	*v.u32(offInterceptMisc1) = InterceptINTR | InterceptNMI | InterceptCPUID | InterceptHLT |
		InterceptIOIO | InterceptMSR | InterceptShutdown
	*v.u32(offInterceptMisc2) = InterceptVMRUN | InterceptVMMCALL | InterceptVMLOAD |
		InterceptVMSAVE | InterceptSTGI | InterceptCLGI | InterceptSKINIT
	v.Set(offIOPM, uint64(iopm))
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
	v.Set(offCR0, cr0PE|cr0ET|cr0NE)
	v.Set(offEFER, eferSVME) // VMRUN requires SVME in the guest's EFER
	v.Set(offRFLAGS, 2)
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

// EFER returns and SetEFER writes the guest's EFER; SVME stays set.
func (v VMCB) SetEFER(x uint64) { v.Set(offEFER, x|eferSVME) }

// CR2 is the guest's CR2.
func (v VMCB) CR2() uint64 { return v.Get(offCR2) }

// passMSRs lets the guest use the MSRs VMLOAD/VMSAVE switch.
func passMSRs() {
	for _, msr := range []uint32{0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
		0xc0000100, 0xc0000101, 0xc0000102} {
		bit := (msr - 0xc0000000) * 2
		b := bytesAt(msrpm+0x800+uintptr(bit/8), 1)
		b[0] &^= 3 << (bit % 8)
	}
}
