package abi

import "encoding/binary"

// domctl and sysctl take a pointer to a fixed 128-byte struct (Xen style):
//
//	offset size field
//	0      4    cmd
//	4      4    interface_version (DomctlVersion / SysctlVersion, else -EACCES)
//	8      2    domain            (domctl: the target; createdomain: OUT)
//	10     6    padding (zero)
//	16     112  per-command union
//
// domctl commands, their union (IN/OUT) and errors:
//
//	cmd  name            union                                    errors
//	1    createdomain    IN  u32 memory_mb, u32 flags,            EINVAL (size, image), EFAULT, ENOSPC
//	                         u64 image_gva, u64 image_len,
//	                         u64 cmdline_gva, u64 cmdline_len;
//	                     OUT domain (header)
//	2    destroydomain   -                                        ESRCH, EINVAL (dom0 or self)
//	3    pausedomain     -                                        ESRCH, EINVAL (self), EOVERFLOW (255)
//	4    unpausedomain   -                                        ESRCH, EINVAL (count 0, self)
//	5    getdomaininfo   OUT DomainInfo                           ESRCH
//
// All of them: EPERM unless the caller is the control domain, EFAULT for a
// bad struct pointer, EACCES for a version mismatch, EINVAL for an unknown
// cmd. Group control (issue 6) will be one more command with an op field.
//
// sysctl commands: 3 physinfo (OUT PhysInfo); 6 getdomaininfolist
// (IN u16 first_domain, u16 pad, u32 max_domains, u64 buffer_gva;
// OUT u32 num_domains at union offset 16; entries are DomainInfo, 64 bytes).
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

	InfoSize = 64
)

// DomainInfo flags.
const (
	InfoRunning    = 1 << 0
	InfoPaused     = 1 << 1
	InfoCrashed    = 1 << 2
	InfoShutdown   = 1 << 3
	InfoDying      = 1 << 4
	InfoPrivileged = 1 << 5
)

// Ctl is the decoded common header.
type Ctl struct {
	Cmd, Version uint32
	Domain       uint16
	Union        [CtlSize - UnionOff]byte
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

// DomainInfo is getdomaininfo's result (64 bytes):
// u16 domain, u16 pad, u32 flags, u32 pause_count, u32 nr_vcpus,
// u64 memory_kb, u64 exits, [32]byte name.
type DomainInfo struct {
	Domain     uint16
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
	le.PutUint32(b[4:], i.Flags)
	le.PutUint32(b[8:], i.PauseCount)
	le.PutUint32(b[12:], i.VCPUs)
	le.PutUint64(b[16:], i.MemoryKB)
	le.PutUint64(b[24:], i.Exits)
	copy(b[32:], i.Name)
	return b
}

// DecodeDomainInfo reads the 64-byte layout.
func DecodeDomainInfo(b []byte) (DomainInfo, bool) {
	if len(b) < InfoSize {
		return DomainInfo{}, false
	}
	le := binary.LittleEndian
	name := b[32:64]
	n := 0
	for n < len(name) && name[n] != 0 {
		n++
	}
	return DomainInfo{le.Uint16(b), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]),
		le.Uint64(b[16:]), le.Uint64(b[24:]), string(name[:n])}, true
}
