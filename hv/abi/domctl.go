package abi

import "encoding/binary"

// domctl and sysctl take a pointer to a fixed 128-byte struct (Xen style):
//
//	offset size field              dir
//	0      4    cmd                IN
//	4      4    interface_version  IN   (DomctlVersion / SysctlVersion, else -EACCES)
//	8      2    domain             IN   (the target; createdomain: OUT, the new id)
//	10     6    padding            -    (zero)
//	16     112  per-command union  per command
//
// Every call runs the same steps (Xen's do_domctl): copy the struct in
// (-EFAULT), check interface_version (-EACCES), check that the caller is
// the control domain (-EPERM), look the target up where the command has one
// (-ESRCH), act, and copy the whole struct back (-EFAULT) on success only.
// An unknown cmd is -EINVAL; -EIO is a hypervisor bug (see package doc).
//
// domctl commands (union fields: CreateDomain, DomainInfo, GroupArgs):
//
//	cmd  name            union                            errors besides the common ones
//	1    createdomain    IN  CreateDomain; OUT -          EINVAL (memory_mb outside 2..16384,
//	                     (header domain OUT)                flags not 0, image_len 0 or above
//	                                                        32 MiB, cmdline_len above 1023,
//	                                                        vcpus above 16, initrd_len above
//	                                                        64 MiB, an initrd with a PVH
//	                                                        image, an image that does not
//	                                                        load: the reason goes to the
//	                                                        console),
//	                                                      EFAULT (image, cmdline or initrd
//	                                                        pointer),
//	                                                      ENOMEM (no memory for the domain),
//	                                                      ENOSPC (no domain id left)
//	2    destroydomain   -                                ESRCH, EINVAL (dom0 or self)
//	3    pausedomain     -                                ESRCH, EINVAL (self or dying),
//	                                                      EOVERFLOW (255 pauses)
//	4    unpausedomain   -                                ESRCH, EINVAL (count 0, self, dying)
//	5    getdomaininfo   OUT DomainInfo                   ESRCH
//	90   group           IN/OUT GroupArgs (group.go)      see group.go
//
// sysctl commands (sysctl.go): 3 physinfo (OUT PhysInfo), 6
// getdomaininfolist (IN/OUT InfoList; entries are DomainInfo), 91 ctlring
// (OUT CtlRing; Grove's own).
const (
	DomctlVersion = 1
	SysctlVersion = 1
	CtlSize       = 128
	UnionOff      = 16

	DomctlCreate  = 1
	DomctlDestroy = 2
	DomctlPause   = 3
	DomctlUnpause = 4
	DomctlGetInfo = 5

	SysctlPhysInfo    = 3
	SysctlGetInfoList = 6
	SysctlCtlRing     = 91

	InfoSize  = 64
	UnionSize = CtlSize - UnionOff
)

// DomainInfo flags.
const (
	InfoRunning    = 1 << 0
	InfoPaused     = 1 << 1
	InfoCrashed    = 1 << 2
	InfoShutdown   = 1 << 3
	InfoDying      = 1 << 4
	InfoPrivileged = 1 << 5
	InfoExited     = 1 << 6 // with InfoShutdown: ended through its exit port; exit_status holds the status
)

// Ctl is the decoded common header.
type Ctl struct {
	Cmd, Version uint32
	Domain       uint16
	Union        [UnionSize]byte
}

// DecodeCtl reads a 128-byte control struct.
func DecodeCtl(b []byte) (Ctl, bool) {
	var c Ctl
	if len(b) < CtlSize {
		return c, false
	}
	le := binary.LittleEndian
	c.Cmd, c.Version, c.Domain = le.Uint32(b), le.Uint32(b[4:]), le.Uint16(b[8:])
	copy(c.Union[:], b[UnionOff:CtlSize])
	return c, true
}

// Encode writes c as 128 bytes.
func (c Ctl) Encode() []byte {
	b := make([]byte, CtlSize)
	le := binary.LittleEndian
	le.PutUint32(b, c.Cmd)
	le.PutUint32(b[4:], c.Version)
	le.PutUint16(b[8:], c.Domain)
	copy(b[UnionOff:], c.Union[:])
	return b
}

// DomainInfo is getdomaininfo's result and getdomaininfolist's entry, all
// fields OUT (64 bytes):
//
//	offset size field
//	0      2    domain
//	2      2    exit_status (with InfoExited: the low 16 bits of the value
//	            the guest wrote to its exit port, port 0xf4; else 0. Was
//	            padding, always zero, before InfoExited existed)
//	4      4    flags (Info*)
//	8      4    pause_count (controller pauses)
//	12     4    nr_vcpus
//	16     8    memory_kb (guest RAM, KiB)
//	24     8    exits (VM exits so far, all vCPUs)
//	32     32   name, NUL-padded (cut to 31 bytes)
type DomainInfo struct {
	Domain     uint16
	ExitStatus uint16
	Flags      uint32
	PauseCount uint32
	VCPUs      uint32
	MemoryKB   uint64
	Exits      uint64
	Name       string
}

// Encode writes i in its 64-byte layout.
func (i DomainInfo) Encode() []byte {
	b := make([]byte, InfoSize)
	le := binary.LittleEndian
	le.PutUint16(b, i.Domain)
	le.PutUint16(b[2:], i.ExitStatus)
	le.PutUint32(b[4:], i.Flags)
	le.PutUint32(b[8:], i.PauseCount)
	le.PutUint32(b[12:], i.VCPUs)
	le.PutUint64(b[16:], i.MemoryKB)
	le.PutUint64(b[24:], i.Exits)
	copy(b[32:63], i.Name)
	return b
}

// DecodeDomainInfo reads the 64-byte layout.
func DecodeDomainInfo(b []byte) (DomainInfo, bool) {
	if len(b) < InfoSize {
		return DomainInfo{}, false
	}
	le := binary.LittleEndian
	return DomainInfo{le.Uint16(b), le.Uint16(b[2:]), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]),
		le.Uint64(b[16:]), le.Uint64(b[24:]), cString(b[32:63])}, true
}

// DecodeDomainInfos reads n consecutive entries (getdomaininfolist's
// buffer); it stops early where b runs out.
func DecodeDomainInfos(b []byte, n int) []DomainInfo {
	out := make([]DomainInfo, 0, n)
	for i := 0; i < n; i++ {
		info, ok := DecodeDomainInfo(b[min(i*InfoSize, len(b)):])
		if !ok {
			break
		}
		out = append(out, info)
	}
	return out
}

// createdomain's union (IN, 64 bytes):
//
//	offset size field
//	0      4    memory_mb   (CreateMinMemoryMB..CreateMaxMemoryMB)
//	4      4    flags       (0)
//	8      8    image_gva   (the image in the caller's memory: a PVH ELF,
//	                         or a Linux bzImage, told apart by the bzImage's
//	                         "HdrS" magic at byte 0x202)
//	16     8    image_len   (1..CreateMaxImage)
//	24     8    cmdline_gva
//	32     8    cmdline_len (without a NUL; at most 1023)
//	40     4    vcpus       (0 means 1; at most CreateMaxVCPUs; they may
//	                         outnumber the physical CPUs and then time-share)
//	44     4    padding     (0)
//	48     8    initrd_gva  (a bzImage's initrd; ignored when initrd_len is 0)
//	56     8    initrd_len  (0: none; at most CreateMaxInitrd; only with a
//	                         bzImage)
//
// The initrd fields were added without a version change: a caller that
// predates them leaves them zero (Ctl.Encode zeroes the union), which means
// no initrd.
const (
	CreateDomainSize  = 64
	CreateMaxVCPUs    = 16
	CreateMinMemoryMB = 2
	CreateMaxMemoryMB = 16384
	CreateMaxImage    = 32 << 20
	CreateMaxInitrd   = 64 << 20
)

// CreateDomain is createdomain's union.
type CreateDomain struct {
	MemoryMB, Flags     uint32
	Image, ImageLen     uint64
	Cmdline, CmdlineLen uint64
	VCPUs               uint32
	Initrd, InitrdLen   uint64
}

// Encode writes a into the union u (at least CreateDomainSize bytes).
func (a CreateDomain) Encode(u []byte) {
	le := binary.LittleEndian
	le.PutUint32(u, a.MemoryMB)
	le.PutUint32(u[4:], a.Flags)
	le.PutUint64(u[8:], a.Image)
	le.PutUint64(u[16:], a.ImageLen)
	le.PutUint64(u[24:], a.Cmdline)
	le.PutUint64(u[32:], a.CmdlineLen)
	le.PutUint32(u[40:], a.VCPUs)
	le.PutUint64(u[48:], a.Initrd)
	le.PutUint64(u[56:], a.InitrdLen)
}

// DecodeCreateDomain reads createdomain's union.
func DecodeCreateDomain(u []byte) (CreateDomain, bool) {
	if len(u) < CreateDomainSize {
		return CreateDomain{}, false
	}
	le := binary.LittleEndian
	return CreateDomain{le.Uint32(u), le.Uint32(u[4:]), le.Uint64(u[8:]), le.Uint64(u[16:]),
		le.Uint64(u[24:]), le.Uint64(u[32:]), le.Uint32(u[40:]), le.Uint64(u[48:]), le.Uint64(u[56:])}, true
}

// Every union fits the 112 bytes (the build fails otherwise, as Xen's
// header does when a struct's size changes).
const (
	_ uint = UnionSize - CreateDomainSize
	_ uint = UnionSize - InfoSize
	_ uint = UnionSize - GroupArgsSize
	_ uint = UnionSize - PhysInfoSize
	_ uint = UnionSize - InfoListSize
)
