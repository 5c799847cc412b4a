package hv

import (
	"encoding/binary"
	"errors"
	"fmt"

	"grove/boot/guest"
	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// domctl and sysctl follow Xen's steps: copy in, check the interface
// version (-EACCES), check the caller (-EPERM), look the target up (-ESRCH),
// act, copy out (-EFAULT). Layouts and the errno table are in package abi.

func init() {
	hypercalls[abi.Domctl] = hcallDomctl
	hypercalls[abi.Sysctl] = hcallSysctl
}

type domctlFn func(v *VCPU, c *abi.Ctl, target *Domain) error

var domctls = map[uint32]domctlFn{
	abi.DomctlPause:   domctlPause,
	abi.DomctlUnpause: domctlUnpause,
	abi.DomctlGetInfo: domctlGetInfo,
	abi.DomctlDestroy: domctlDestroy,
}

func hcallDomctl(v *VCPU, a [5]uint64) (int64, outcome, string) {
	b, err := v.copyIn(a[0], abi.CtlSize)
	if err != nil {
		return errno.EFAULT.Ret(), resume, ""
	}
	c, _ := abi.DecodeCtl(b)
	switch {
	case c.Version != abi.DomctlVersion:
		return errno.EACCES.Ret(), resume, ""
	case !v.dom.Privileged:
		return errno.EPERM.Ret(), resume, ""
	}
	if c.Cmd == abi.DomctlGroup {
		if err := domctlGroup(v, &c); err != nil {
			return errRet(err), resume, ""
		}
		return copyOutCtl(v, a[0], c)
	}
	if c.Cmd == abi.DomctlCreate {
		if err := domctlCreate(v, &c); err != nil {
			return errRet(err), resume, ""
		}
		return copyOutCtl(v, a[0], c)
	}
	fn, ok := domctls[c.Cmd]
	if !ok {
		return errno.EINVAL.Ret(), resume, ""
	}
	target, ok := v.dom.hv.Domain(DomID(c.Domain))
	if !ok {
		return errno.ESRCH.Ret(), resume, ""
	}
	if err := fn(v, &c, target); err != nil {
		return errRet(err), resume, ""
	}
	return copyOutCtl(v, a[0], c)
}

func copyOutCtl(v *VCPU, gva uint64, c abi.Ctl) (int64, outcome, string) {
	if v.copyOut(gva, c.Encode()) != nil {
		return errno.EFAULT.Ret(), resume, ""
	}
	return 0, resume, ""
}

// maxImage bounds a guest image passed to createdomain.
const maxImage = 32 << 20

// domctlCreate builds a domain from an image in the caller's memory. Like
// every new domain it starts paused; the caller unpauses it.
func domctlCreate(v *VCPU, c *abi.Ctl) error {
	le := binary.LittleEndian
	u := c.Union[:]
	mem, flags := le.Uint32(u[0:]), le.Uint32(u[4:])
	img, imgLen := le.Uint64(u[8:]), le.Uint64(u[16:])
	cmd, cmdLen := le.Uint64(u[24:]), le.Uint64(u[32:])
	if imgLen == 0 || imgLen > maxImage || cmdLen > guest.MaxCmdline || flags != 0 || mem == 0 || mem > 16384 {
		return errno.EINVAL
	}
	image, err := v.copyIn(img, int(imgLen))
	if err != nil {
		return errno.EFAULT
	}
	cmdline, err := v.copyIn(cmd, int(cmdLen))
	if err != nil {
		return errno.EFAULT
	}
	d, err := v.dom.hv.CreateDomain(Config{Name: fmt.Sprintf("created%d", v.dom.hv.created.Add(1)),
		MemoryMB: int(mem), Image: image, Cmdline: string(cmdline)})
	if err != nil {
		v.dom.logf("createdomain: %v", err)
		if errors.Is(err, errno.ENOMEM) {
			return errno.ENOMEM
		}
		return errno.EINVAL
	}
	c.Domain = uint16(d.ID)
	return nil
}

func errRet(err error) int64 {
	if e, ok := err.(errno.Errno); ok {
		return e.Ret()
	}
	return errno.EINVAL.Ret()
}

func domctlPause(v *VCPU, c *abi.Ctl, d *Domain) error {
	if d == v.dom {
		return errno.EINVAL // pausing yourself would never return
	}
	return d.Pause()
}

func domctlUnpause(v *VCPU, c *abi.Ctl, d *Domain) error {
	if d == v.dom {
		return errno.EINVAL
	}
	return d.Unpause()
}

func domctlGetInfo(v *VCPU, c *abi.Ctl, d *Domain) error {
	copy(c.Union[:], d.abiInfo().Encode())
	return nil
}

func domctlDestroy(v *VCPU, c *abi.Ctl, d *Domain) error {
	if d == v.dom || d.Privileged {
		return errno.EINVAL
	}
	return d.hv.Destroy(d)
}

// abiInfo is getdomaininfo's view of d.
func (d *Domain) abiInfo() abi.DomainInfo {
	i := d.Info()
	flags := map[string]uint32{"running": abi.InfoRunning, "paused": abi.InfoPaused,
		"crashed": abi.InfoCrashed, "shutdown": abi.InfoShutdown, "dying": abi.InfoDying}[i.State]
	if d.Privileged {
		flags |= abi.InfoPrivileged
	}
	return abi.DomainInfo{Domain: uint16(d.ID), Flags: flags, PauseCount: uint32(i.PauseCount),
		VCPUs: uint32(len(d.vcpus)), MemoryKB: uint64(i.MemoryMB) << 10, Exits: i.Exits, Name: d.Name}
}

func hcallSysctl(v *VCPU, a [5]uint64) (int64, outcome, string) {
	b, err := v.copyIn(a[0], abi.CtlSize)
	if err != nil {
		return errno.EFAULT.Ret(), resume, ""
	}
	c, _ := abi.DecodeCtl(b)
	switch {
	case c.Version != abi.SysctlVersion:
		return errno.EACCES.Ret(), resume, ""
	case !v.dom.Privileged:
		return errno.EPERM.Ret(), resume, ""
	}
	le := binary.LittleEndian
	u := c.Union[:]
	switch c.Cmd {
	case abi.SysctlPhysInfo:
		m := kernel.ReadMemInfo()
		le.PutUint32(u[0:], 1) // CPUs
		le.PutUint32(u[4:], uint32(kernel.TSCHz()/1000))
		le.PutUint64(u[8:], m.Total)
		le.PutUint64(u[16:], m.Free)
	case abi.SysctlGetInfoList:
		first, max, buf := le.Uint16(u[0:]), le.Uint32(u[4:]), le.Uint64(u[8:])
		n := uint32(0)
		for _, d := range v.dom.hv.Domains() {
			if uint16(d.ID) < first || n >= max {
				continue
			}
			if v.copyOut(buf+uint64(n)*abi.InfoSize, d.abiInfo().Encode()) != nil {
				return errno.EFAULT.Ret(), resume, ""
			}
			n++
		}
		le.PutUint32(u[16:], n)
	default:
		return errno.EINVAL.Ret(), resume, ""
	}
	if v.copyOut(a[0], c.Encode()) != nil {
		return errno.EFAULT.Ret(), resume, ""
	}
	return 0, resume, ""
}
