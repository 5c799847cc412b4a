//go:build groveguest

package main

import (
	"encoding/binary"
	"unsafe"

	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// Thin wrappers over domctl and sysctl: a 128-byte struct in Go memory,
// touched so the hypervisor can reach it, passed by guest-virtual address.

func call(nr uintptr, c abi.Ctl, extra []byte) (abi.Ctl, error) {
	b := c.Encode()
	kernel.Touch(b)
	kernel.Touch(extra)
	r := kernel.Hypercall(nr, uintptr(unsafe.Pointer(&b[0])), 0, 0)
	if r < 0 {
		return c, errno.Errno(-r)
	}
	out, _ := abi.DecodeCtl(b)
	return out, nil
}

func ctl(cmd uint32, dom uint16) error {
	_, err := call(abi.Domctl, abi.Ctl{Cmd: cmd, Version: abi.DomctlVersion, Domain: dom}, nil)
	return err
}

func create(img []byte, memMB uint32, cmdline string) (uint16, error) {
	c := abi.Ctl{Cmd: abi.DomctlCreate, Version: abi.DomctlVersion}
	le := binary.LittleEndian
	cmd := append([]byte(cmdline), 0)
	le.PutUint32(c.Union[0:], memMB)
	le.PutUint64(c.Union[8:], uint64(uintptr(unsafe.Pointer(&img[0]))))
	le.PutUint64(c.Union[16:], uint64(len(img)))
	le.PutUint64(c.Union[24:], uint64(uintptr(unsafe.Pointer(&cmd[0]))))
	le.PutUint64(c.Union[32:], uint64(len(cmdline)))
	kernel.Touch(cmd)
	out, err := call(abi.Domctl, c, img)
	return out.Domain, err
}

func domains() ([]abi.DomainInfo, error) {
	buf := make([]byte, 64*abi.InfoSize)
	c := abi.Ctl{Cmd: abi.SysctlGetInfoList, Version: abi.SysctlVersion}
	le := binary.LittleEndian
	le.PutUint32(c.Union[4:], 64)
	le.PutUint64(c.Union[8:], uint64(uintptr(unsafe.Pointer(&buf[0]))))
	out, err := call(abi.Sysctl, c, buf)
	if err != nil {
		return nil, err
	}
	var infos []abi.DomainInfo
	for i := uint32(0); i < le.Uint32(out.Union[16:]); i++ {
		info, _ := abi.DecodeDomainInfo(buf[i*abi.InfoSize:])
		infos = append(infos, info)
	}
	return infos, nil
}

func physInfo() error {
	out, err := call(abi.Sysctl, abi.Ctl{Cmd: abi.SysctlPhysInfo, Version: abi.SysctlVersion}, nil)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	u := out.Union[:]
	println("agent: physinfo:", le.Uint32(u[0:]), "CPUs,", le.Uint32(u[4:])/1000, "MHz TSC,",
		le.Uint64(u[8:])>>8, "MiB RAM,", le.Uint64(u[16:])>>8, "MiB free")
	return nil
}

// group runs one group op (domctl group) and returns the decoded union.
func group(op uint32, g abi.GroupArgs) (abi.GroupArgs, error) {
	g.Op = op
	c := abi.Ctl{Cmd: abi.DomctlGroup, Version: abi.DomctlVersion}
	g.Encode(c.Union[:])
	out, err := call(abi.Domctl, c, nil)
	if err != nil {
		return g, err
	}
	res, _ := abi.DecodeGroup(out.Union[:])
	return res, nil
}

// groupList returns the ids of the groups (null group included).
func groupList() ([]uint16, error) {
	buf := make([]byte, 2*64)
	kernel.Touch(buf)
	res, err := group(abi.GroupList, abi.GroupArgs{Arg: 64, Buffer: uint64(uintptr(unsafe.Pointer(&buf[0])))})
	if err != nil {
		return nil, err
	}
	ids := make([]uint16, res.Arg)
	for i := range ids {
		ids[i] = binary.LittleEndian.Uint16(buf[2*i:])
	}
	return ids, nil
}
