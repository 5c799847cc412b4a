package hv

import (
	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// sysctl: the same steps as domctl (controlCall, domctl.go); layouts in
// package abi (sysctl.go).

func hcallSysctl(v *VCPU, x *exitState, a [5]uint64) (int64, outcome) {
	return controlCall(v, a[0], abi.SysctlVersion, sysctl), resume
}

func sysctl(v *VCPU, c *abi.Ctl) error {
	switch c.Cmd {
	case abi.SysctlPhysInfo:
		m := kernel.ReadMemInfo()
		abi.PhysInfo{CPUs: uint32(len(v.dom.hv.sched.cpus)), TSCkHz: uint32(kernel.TSCHz() / 1000),
			TotalPages: m.Total, FreePages: m.Free}.Encode(c.Union[:])
		return nil
	case abi.SysctlGetInfoList:
		return sysctlGetInfoList(v, c)
	case abi.SysctlCtlRing:
		return sysctlCtlRing(v, c)
	}
	return errno.EINVAL
}

// sysctlGetInfoList writes DomainInfo entries for the domains from
// First on, at most Max of them, to the caller's buffer.
func sysctlGetInfoList(v *VCPU, c *abi.Ctl) error {
	l, _ := abi.DecodeInfoList(c.Union[:])
	l.Num = 0
	for _, d := range v.dom.hv.Domains() {
		if uint16(d.ID) < l.First || l.Num >= l.Max {
			continue
		}
		if v.mem.copyOut(l.Buffer+uint64(l.Num)*abi.InfoSize, d.abiInfo().Encode()) != nil {
			return errno.EFAULT
		}
		l.Num++
	}
	l.Encode(c.Union[:])
	return nil
}
