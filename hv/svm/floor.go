package svm

import "grove/errno"

// The floor: the cheapest exit handling there is, for measuring what
// Grove's own costs against (make bench, hv's exit benchmark). Its loop
// (floor_amd64.s) re-enters the guest straight after a CPUID (the host's
// own answer) or a VMMCALL with a number of 64 or more (-ENOSYS), keeping
// the guest's registers in the CPU; any other exit returns as from Run.
// It checks nothing else (no interrupt offers, no Stop, no table): it is
// a measuring device, not a way to run guests.

// floorNullRet is the floor's answer to a hypercall, the errno hv's
// table gives a number it lacks.
const floorNullRet = -int64(errno.ENOSYS)

// RunFloor is Run with the floor's exit handling.
func RunFloor(h *Host, vmcb VMCB, regs *Regs, deadline int64) uint64 {
	args := runArgs{vmcb: vmcb.PA, hostVMCB: h.HostVMCB, regs: regs, fpu: regs.fpuAddr(), floor: true}
	return run(vmcb, &args, deadline)
}

// vmrunFloor is vmrun with the floor's loop (floor_amd64.s).
// Kernel context (interrupts off).
func vmrunFloor(vmcb, hostVMCB uintptr, regs *Regs, fpu uintptr)
