package abi

import "encoding/binary"

// sysctl unions (the header and common errors are in domctl.go).
//
// physinfo (cmd 3): OUT PhysInfo, 24 bytes:
//
//	offset size field
//	0      4    nr_cpus      (physical CPUs the hypervisor runs on)
//	4      4    tsc_khz      (TSC frequency, kHz)
//	8      8    total_pages  (host RAM the kernel manages, 4 KiB pages)
//	16     8    free_pages   (of those, free now, 4 KiB pages)
//
// getdomaininfolist (cmd 6): InfoList, 20 bytes; the domains with id >=
// first_domain, in id order, at most max_domains of them, go to the buffer
// as consecutive DomainInfo entries (-EFAULT if it is not writable):
//
//	offset size field        dir
//	0      2    first_domain IN
//	2      2    padding      -
//	4      4    max_domains  IN
//	8      8    buffer_gva   IN   (max_domains * InfoSize bytes)
//	16     4    num_domains  OUT  (entries written)
//
// ctlring (cmd 91, Grove's): OUT CtlRing, 16 bytes: the host channel's
// shared memory (package ctl/ring), now mapped into the caller at
// guest-physical addr:
//
//	offset size field
//	0      8    addr  (guest-physical, page-aligned; the same as host-physical)
//	8      8    size  (bytes, a power of two)
//
// Errors: ENODEV (no such memory on this machine, or it cannot be mapped
// into the caller; the hypervisor's log says why), EBUSY (mapped into
// another domain), ENOMEM.
const (
	CtlRingSize  = 16
	PhysInfoSize = 24
	InfoListSize = 20
	PageSize     = 4096 // the unit of PhysInfo's page counts
)

// PhysInfo is physinfo's result.
type PhysInfo struct {
	CPUs       uint32
	TSCkHz     uint32
	TotalPages uint64
	FreePages  uint64
}

// Encode writes p into the union u (at least PhysInfoSize bytes).
func (p PhysInfo) Encode(u []byte) {
	le := binary.LittleEndian
	le.PutUint32(u, p.CPUs)
	le.PutUint32(u[4:], p.TSCkHz)
	le.PutUint64(u[8:], p.TotalPages)
	le.PutUint64(u[16:], p.FreePages)
}

// DecodePhysInfo reads physinfo's union.
func DecodePhysInfo(u []byte) (PhysInfo, bool) {
	if len(u) < PhysInfoSize {
		return PhysInfo{}, false
	}
	le := binary.LittleEndian
	return PhysInfo{le.Uint32(u), le.Uint32(u[4:]), le.Uint64(u[8:]), le.Uint64(u[16:])}, true
}

// InfoList is getdomaininfolist's union.
type InfoList struct {
	First  uint16
	Max    uint32
	Buffer uint64
	Num    uint32
}

// Encode writes l into the union u (at least InfoListSize bytes).
func (l InfoList) Encode(u []byte) {
	le := binary.LittleEndian
	le.PutUint16(u, l.First)
	le.PutUint32(u[4:], l.Max)
	le.PutUint64(u[8:], l.Buffer)
	le.PutUint32(u[16:], l.Num)
}

// DecodeInfoList reads getdomaininfolist's union.
func DecodeInfoList(u []byte) (InfoList, bool) {
	if len(u) < InfoListSize {
		return InfoList{}, false
	}
	le := binary.LittleEndian
	return InfoList{le.Uint16(u), le.Uint32(u[4:]), le.Uint64(u[8:]), le.Uint32(u[16:])}, true
}

// CtlRing is ctlring's result.
type CtlRing struct{ Addr, Size uint64 }

// Encode writes r into the union u (at least CtlRingSize bytes).
func (r CtlRing) Encode(u []byte) {
	binary.LittleEndian.PutUint64(u, r.Addr)
	binary.LittleEndian.PutUint64(u[8:], r.Size)
}

// DecodeCtlRing reads ctlring's union.
func DecodeCtlRing(u []byte) (CtlRing, bool) {
	if len(u) < CtlRingSize {
		return CtlRing{}, false
	}
	return CtlRing{binary.LittleEndian.Uint64(u), binary.LittleEndian.Uint64(u[8:])}, true
}
