package hv

import (
	"fmt"

	"grove/boot/guest"
	"grove/errno"
	"grove/hv/abi"
)

// domctl and sysctl follow Xen's do_domctl: copy in (-EFAULT), check the
// interface version (-EACCES), check the caller (-EPERM), look the target
// up (-ESRCH), act, and copy the struct back at one exit (-EFAULT).
// Layouts and the errno table are in package abi (domctl.go).

// controlCall runs the steps domctl and sysctl share around op.
func controlCall(v *VCPU, gva uint64, version uint32, op func(*VCPU, *abi.Ctl) error) int64 {
	b, err := v.mem.copyIn(gva, abi.CtlSize)
	if err != nil {
		return errno.EFAULT.Ret()
	}
	c, _ := abi.DecodeCtl(b)
	switch {
	case c.Version != version:
		err = errno.EACCES
	case !v.dom.Privileged:
		err = errno.EPERM
	default:
		err = op(v, &c)
	}
	if err == nil && v.mem.copyOut(gva, c.Encode()) != nil {
		err = errno.EFAULT
	}
	return v.errRet(err, "domctl/sysctl cmd", c.Cmd)
}

func hcallDomctl(v *VCPU, x *exitState, a [5]uint64) (int64, outcome) {
	return controlCall(v, a[0], abi.DomctlVersion, domctl), resume
}

// domctl runs one command; those on an existing domain get it looked up.
func domctl(v *VCPU, c *abi.Ctl) error {
	var fn func(v *VCPU, c *abi.Ctl, target *Domain) error
	switch c.Cmd {
	case abi.DomctlCreate:
		return domctlCreate(v, c)
	case abi.DomctlGroup:
		return domctlGroup(v, c)
	case abi.DomctlPause:
		fn = domctlPause
	case abi.DomctlUnpause:
		fn = domctlUnpause
	case abi.DomctlGetInfo:
		fn = domctlGetInfo
	case abi.DomctlDestroy:
		fn = domctlDestroy
	default:
		return errno.EINVAL
	}
	target, ok := v.dom.hv.Domain(DomID(c.Domain))
	if !ok {
		return errno.ESRCH
	}
	return fn(v, c, target)
}

// domctlCreate builds a domain from an image (and a bzImage's initrd) in
// the caller's memory. Like every new domain it starts paused; the caller
// unpauses it.
func domctlCreate(v *VCPU, c *abi.Ctl) error {
	a, _ := abi.DecodeCreateDomain(c.Union[:])
	if a.ImageLen == 0 || a.ImageLen > abi.CreateMaxImage || a.CmdlineLen > guest.MaxCmdline || a.Flags != 0 ||
		a.MemoryMB < abi.CreateMinMemoryMB || a.MemoryMB > abi.CreateMaxMemoryMB || a.VCPUs > abi.CreateMaxVCPUs ||
		a.InitrdLen > abi.CreateMaxInitrd {
		return errno.EINVAL
	}
	image, err := v.mem.copyIn(a.Image, int(a.ImageLen))
	if err != nil {
		return errno.EFAULT
	}
	cmdline, err := v.mem.copyIn(a.Cmdline, int(a.CmdlineLen))
	if err != nil {
		return errno.EFAULT
	}
	var initrd []byte
	if a.InitrdLen > 0 {
		if initrd, err = v.mem.copyIn(a.Initrd, int(a.InitrdLen)); err != nil {
			return errno.EFAULT
		}
	}
	d, err := v.dom.hv.CreateDomain(Config{Name: fmt.Sprintf("created%d", v.dom.hv.created.Add(1)),
		MemoryMB: int(a.MemoryMB), VCPUs: int(max(a.VCPUs, 1)), Image: image, Initrd: initrd,
		Cmdline: string(cmdline)})
	if err != nil {
		v.dom.logf("createdomain: %v", err)
		return err // an image the loader refused is EINVAL (badImage); an error without an errno, EIO

	}
	c.Domain = uint16(d.ID)
	return nil
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
	flags := stateFlag(i.State)
	if d.Privileged {
		flags |= abi.InfoPrivileged
	}
	var status uint16
	if i.Exited {
		flags |= abi.InfoExited
		status = uint16(i.ExitStatus)
	}
	return abi.DomainInfo{Domain: uint16(d.ID), ExitStatus: status, Flags: flags, PauseCount: uint32(i.PauseCount),
		VCPUs: uint32(len(d.vcpus)), MemoryKB: uint64(i.MemoryMB) << 10, Exits: i.Exits, Name: d.Name}
}

// stateFlag is DomainInfo's flag for an Info.State.
func stateFlag(state string) uint32 {
	switch state {
	case "running":
		return abi.InfoRunning
	case "paused":
		return abi.InfoPaused
	case "crashed":
		return abi.InfoCrashed
	case "shutdown":
		return abi.InfoShutdown
	case "dying":
		return abi.InfoDying
	}
	return 0
}
