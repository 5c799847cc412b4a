//go:build groveguest

package main

import (
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

// gva is the guest-virtual address of b's first byte, for the hypervisor.
func gva(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

func create(img []byte, memMB uint32, cmdline string) (uint16, error) {
	c := abi.Ctl{Cmd: abi.DomctlCreate, Version: abi.DomctlVersion}
	cmd := append([]byte(cmdline), 0)
	abi.CreateDomain{MemoryMB: memMB, Image: gva(img), ImageLen: uint64(len(img)),
		Cmdline: gva(cmd), CmdlineLen: uint64(len(cmdline))}.Encode(c.Union[:])
	kernel.Touch(cmd)
	out, err := call(abi.Domctl, c, img)
	return out.Domain, err
}

func domains() ([]abi.DomainInfo, error) {
	const max = 64
	buf := make([]byte, max*abi.InfoSize)
	c := abi.Ctl{Cmd: abi.SysctlGetInfoList, Version: abi.SysctlVersion}
	abi.InfoList{Max: max, Buffer: gva(buf)}.Encode(c.Union[:])
	out, err := call(abi.Sysctl, c, buf)
	if err != nil {
		return nil, err
	}
	l, _ := abi.DecodeInfoList(out.Union[:])
	return abi.DecodeDomainInfos(buf, int(l.Num)), nil
}

func physInfo() error {
	out, err := call(abi.Sysctl, abi.Ctl{Cmd: abi.SysctlPhysInfo, Version: abi.SysctlVersion}, nil)
	if err != nil {
		return err
	}
	p, _ := abi.DecodePhysInfo(out.Union[:])
	const mib = (1 << 20) / abi.PageSize
	println("agent: physinfo:", p.CPUs, "CPUs,", p.TSCkHz/1000, "MHz TSC,",
		p.TotalPages/mib, "MiB RAM,", p.FreePages/mib, "MiB free")
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
	const max = 64
	buf := make([]byte, 2*max)
	kernel.Touch(buf)
	res, err := group(abi.GroupList, abi.GroupArgs{Arg: max, Buffer: gva(buf)})
	if err != nil {
		return nil, err
	}
	return abi.DecodeGroupIDs(buf, int(res.Arg)), nil
}
