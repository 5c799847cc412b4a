package hv

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"grove/errno"
	"grove/hv/abi"
	"grove/hv/svm"
)

// vmmcall makes up a VMMCALL exit for hypercall nr with args.
func vmmcall(v *VCPU, nr uint64, args ...uint64) (outcome, int64, exitState) {
	regs := []*uint64{&v.regs.RDI, &v.regs.RSI, &v.regs.RDX, &v.regs.R10, &v.regs.R8}
	for i, r := range regs {
		*r = 0
		if i < len(args) {
			*r = args[i]
		}
	}
	x := exitState{code: svm.ExitVMMCALL, rax: nr, rip: 0x1000, now: 1e9}
	out := handleExit(v, &x)
	return out, int64(x.rax), x
}

func TestUnknownHypercall(t *testing.T) {
	v, _ := fakeVCPU(t, false)
	for _, nr := range []uint64{0, 14, 63, 64, 999, 1 << 40} {
		t.Run(fmt.Sprint(nr), func(t *testing.T) {
			if out, ret, _ := vmmcall(v, nr); out != resume || ret != errno.ENOSYS.Ret() {
				t.Fatalf("hypercall %d: %v %d, want resume, -ENOSYS", nr, out, ret)
			}
		})
	}
}

func TestHypercallOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nr      uint64
		args    []uint64
		want    outcome
		wantRet int64
	}{
		{"yield", abi.SchedOp, []uint64{abi.SchedYield}, yield, 0},
		{"block", abi.SchedOp, []uint64{abi.SchedBlock}, block, 0},
		{"sleep", abi.SchedOp, []uint64{abi.SchedSleep, 5e6}, sleepUntil(1e9 + 5e6), 0},
		{"sleep-capped", abi.SchedOp, []uint64{abi.SchedSleep, 1 << 62}, sleepUntil(1e9 + int64(time.Hour)), 0},
		{"poweroff", abi.SchedOp, []uint64{abi.SchedShutdown, abi.ShutdownPoweroff}, shutdown("poweroff"), 0},
		{"reboot", abi.SchedOp, []uint64{abi.SchedShutdown, abi.ShutdownReboot}, shutdown("reboot"), 0},
		{"crash", abi.SchedOp, []uint64{abi.SchedShutdown, abi.ShutdownCrash}, crash("guest requested crash at rip=0x1003"), 0},
		{"bad-shutdown", abi.SchedOp, []uint64{abi.SchedShutdown, 9}, resume, errno.EINVAL.Ret()},
		{"bad-sched-op", abi.SchedOp, []uint64{7}, resume, errno.ENOSYS.Ret()},
		{"timer-off", abi.SetTimerOp, []uint64{0}, armTimer(0), 0},
		{"console-write", abi.ConsoleIO, []uint64{abi.ConsoleWrite, 3, 0x100}, resume, 3},
		{"console-too-long", abi.ConsoleIO, []uint64{abi.ConsoleWrite, abi.ConsoleMax + 1, 0}, resume, errno.EINVAL.Ret()},
		{"console-bad-pointer", abi.ConsoleIO, []uint64{abi.ConsoleWrite, 3, 1 << 40}, resume, errno.EFAULT.Ret()},
		{"console-read", abi.ConsoleIO, []uint64{1, 3, 0x100}, resume, errno.ENOSYS.Ret()},
		{"event-op-domU", abi.EventOp, []uint64{abi.EventPoll, 0x100}, resume, errno.EPERM.Ret()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := fakeVCPU(t, false)
			out, ret, x := vmmcall(v, tc.nr, tc.args...)
			if out != tc.want || ret != tc.wantRet {
				t.Fatalf("got %v ret %d, want %v ret %d", out, ret, tc.want, tc.wantRet)
			}
			if x.rip != 0x1003 {
				t.Fatalf("rip %#x, want past VMMCALL", x.rip)
			}
		})
	}
	v, _ := fakeVCPU(t, false)
	if out, _, _ := vmmcall(v, abi.SetTimerOp, 1); out.act != actArmTimer || out.at < 1 {
		t.Fatalf("set_timer_op: %v at %d, want arm-timer at >= 1", out, out.at)
	}
}

// domctl's checks run in Xen's order; the struct is copied back only on
// success.
func TestDomctlChecks(t *testing.T) {
	ctl := abi.Ctl{Cmd: abi.DomctlGetInfo, Version: abi.DomctlVersion}
	for _, tc := range []struct {
		name       string
		privileged bool
		ptr        uint64
		ctl        abi.Ctl
		nr         uint64
		want       errno.Errno
	}{
		{"bad-pointer", true, 0xfff8, ctl, abi.Domctl, errno.EFAULT},
		{"bad-version", true, 0x2000, abi.Ctl{Cmd: abi.DomctlGetInfo, Version: 99}, abi.Domctl, errno.EACCES},
		{"not-privileged", false, 0x2000, ctl, abi.Domctl, errno.EPERM},
		{"version-before-permission", false, 0x2000, abi.Ctl{Cmd: abi.DomctlGetInfo}, abi.Domctl, errno.EACCES},
		{"unknown-cmd", true, 0x2000, abi.Ctl{Cmd: 77, Version: abi.DomctlVersion}, abi.Domctl, errno.EINVAL},
		{"sysctl-bad-version", true, 0x2000, abi.Ctl{Cmd: abi.SysctlPhysInfo, Version: 2}, abi.Sysctl, errno.EACCES},
		{"sysctl-not-privileged", false, 0x2000, abi.Ctl{Cmd: abi.SysctlPhysInfo, Version: abi.SysctlVersion}, abi.Sysctl, errno.EPERM},
		{"sysctl-unknown-cmd", true, 0x2000, abi.Ctl{Cmd: 77, Version: abi.SysctlVersion}, abi.Sysctl, errno.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, m := fakeVCPU(t, tc.privileged)
			in := tc.ctl.Encode()
			copy(m.b[0x2000:], in)
			if _, ret, _ := vmmcall(v, tc.nr, tc.ptr); ret != tc.want.Ret() {
				t.Fatalf("ret %d, want %d (%v)", ret, tc.want.Ret(), tc.want)
			}
			if string(m.b[0x2000:0x2000+abi.CtlSize]) != string(in) {
				t.Fatal("struct changed by a failed call")
			}
		})
	}
}

func TestCreateDomainArgs(t *testing.T) {
	good := abi.CreateDomain{MemoryMB: 4, Image: 0x4000, ImageLen: 16, Cmdline: 0x5000, CmdlineLen: 4}
	for _, tc := range []struct {
		name string
		mut  func(a *abi.CreateDomain)
		want errno.Errno
	}{
		{"memory-0", func(a *abi.CreateDomain) { a.MemoryMB = 0 }, errno.EINVAL},
		{"memory-1", func(a *abi.CreateDomain) { a.MemoryMB = 1 }, errno.EINVAL},
		{"memory-too-big", func(a *abi.CreateDomain) { a.MemoryMB = abi.CreateMaxMemoryMB + 1 }, errno.EINVAL},
		{"flags", func(a *abi.CreateDomain) { a.Flags = 1 }, errno.EINVAL},
		{"no-image", func(a *abi.CreateDomain) { a.ImageLen = 0 }, errno.EINVAL},
		{"image-too-big", func(a *abi.CreateDomain) { a.ImageLen = abi.CreateMaxImage + 1 }, errno.EINVAL},
		{"cmdline-too-long", func(a *abi.CreateDomain) { a.CmdlineLen = 1024 }, errno.EINVAL},
		{"image-pointer", func(a *abi.CreateDomain) { a.Image = 1 << 40 }, errno.EFAULT},
		{"cmdline-pointer", func(a *abi.CreateDomain) { a.Cmdline = 0xffff }, errno.EFAULT},
		{"initrd-too-big", func(a *abi.CreateDomain) { a.Initrd, a.InitrdLen = 0x6000, abi.CreateMaxInitrd+1 }, errno.EINVAL},
		{"initrd-pointer", func(a *abi.CreateDomain) { a.Initrd, a.InitrdLen = 1<<40, 16 }, errno.EFAULT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, m := fakeVCPU(t, true)
			a := good
			tc.mut(&a)
			c := abi.Ctl{Cmd: abi.DomctlCreate, Version: abi.DomctlVersion}
			a.Encode(c.Union[:])
			copy(m.b[0x2000:], c.Encode())
			if _, ret, _ := vmmcall(v, abi.Domctl, 0x2000); ret != tc.want.Ret() {
				t.Fatalf("ret %d, want %v", ret, tc.want)
			}
		})
	}
}

// createdomain's errors reach the caller through errRet: an image the
// loader refused is EINVAL unless its cause carries an errno; an error with
// none is a hypervisor bug, EIO.
func TestCreateErrno(t *testing.T) {
	v, _ := fakeVCPU(t, false)
	for _, tc := range []struct {
		name string
		err  error
		want errno.Errno
	}{
		{"no-memory", fmt.Errorf("domain %q: guest RAM: %w", "x", errno.ENOMEM), errno.ENOMEM},
		{"kernel-pages", fmt.Errorf("vcpu: %w", syscall.ENOMEM), errno.ENOMEM},
		{"no-id-left", fmt.Errorf("domain %q: %w", "x", errno.ENOSPC), errno.ENOSPC},
		{"bad-image", fmt.Errorf("domain %q: %w", "x", badImage{errors.New("no PVH entry note")}), errno.EINVAL},
		{"bad-image-errno", badImage{fmt.Errorf("initrd: %w", errno.E2BIG)}, errno.E2BIG},
		{"internal", errors.New("device bus: ports overlap"), errno.EIO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.errRet(tc.err, "domctl", 0); got != tc.want.Ret() {
				t.Fatalf("errRet = %d, want %v", got, tc.want)
			}
		})
	}
	if got := (badImage{errors.New("no PVH entry note")}).Error(); got != "no PVH entry note" {
		t.Errorf("badImage prints %q, want the loader's message alone", got)
	}
}

func TestErrRetKeepsErrno(t *testing.T) {
	v, _ := fakeVCPU(t, false)
	for _, tc := range []struct {
		name string
		err  error
		want int64
	}{
		{"nil", nil, 0},
		{"errno", errno.EBUSY, errno.EBUSY.Ret()},
		{"wrapped", fmt.Errorf("group 7: %w", errno.EEXIST), errno.EEXIST.Ret()},
		{"syscall", syscall.ENOSPC, errno.ENOSPC.Ret()},
		{"bug", errors.New("unexpected"), errno.EIO.Ret()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.errRet(tc.err, "test", 1); got != tc.want {
				t.Fatalf("errRet = %d, want %d", got, tc.want)
			}
		})
	}
}

// getdomaininfolist and getdomaininfo over a made-up hypervisor with two
// domains (no scheduler loop, no guest RAM behind them).
func TestInfoList(t *testing.T) {
	v, m := fakeVCPU(t, true)
	h := &Hypervisor{sched: newScheduler(time.Millisecond, 1), domains: map[DomID]*Domain{}}
	for _, d := range []*Domain{v.dom, {ID: 5, Name: "web", ram: &guestRAM{size: 4 << 20}, state: domPaused, pauseCount: 2}} {
		d.hv = h
		if d.ram == nil {
			d.ram = &guestRAM{size: 2 << 20}
		}
		d.ready.Store(true)
		h.domains[d.ID] = d
	}
	for _, tc := range []struct {
		name  string
		first uint16
		max   uint32
		want  []uint16
	}{{"all", 0, 10, []uint16{3, 5}}, {"from-4", 4, 10, []uint16{5}}, {"max-1", 0, 1, []uint16{3}}, {"max-0", 0, 0, nil}} {
		t.Run(tc.name, func(t *testing.T) {
			c := abi.Ctl{Cmd: abi.SysctlGetInfoList, Version: abi.SysctlVersion}
			abi.InfoList{First: tc.first, Max: tc.max, Buffer: 0x3000, Num: 99}.Encode(c.Union[:])
			copy(m.b[0x2000:], c.Encode())
			if _, ret, _ := vmmcall(v, abi.Sysctl, 0x2000); ret != 0 {
				t.Fatalf("ret %d", ret)
			}
			out, _ := abi.DecodeCtl(m.b[0x2000:])
			l, _ := abi.DecodeInfoList(out.Union[:])
			infos := abi.DecodeDomainInfos(m.b[0x3000:], int(l.Num))
			var got []uint16
			for _, i := range infos {
				got = append(got, i.Domain)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("domains %v, want %v", got, tc.want)
			}
		})
	}
	web := abi.DecodeDomainInfos(m.b[0x3000:], 2)
	if len(web) < 2 || web[1] != (abi.DomainInfo{Domain: 5, Flags: abi.InfoPaused, PauseCount: 2, MemoryKB: 4096, Name: "web"}) {
		t.Fatalf("entry for d5: %+v", web)
	}
}
