package svm

// Defined in vmrun_amd64.s.

// vmrun loads regs and the guest FPU image, saves the host's segment/MSR
// state to hostVMCB, runs the guest of vmcb until #VMEXIT, and reverses all
// of that. Kernel context only (interrupts off).
func vmrun(vmcb, hostVMCB uintptr, regs *Regs, fpu uintptr)
