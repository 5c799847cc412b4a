package svm

// Defined in vmrun_amd64.s.

// vmrun loads regs and the guest FPU image, saves the host's segment/MSR
// state to hostVMCB, runs the guest of vmcb until a #VMEXIT that fast
// (nil: none) does not take, and reverses all of that. Kernel context only
// (interrupts off).
func vmrun(vmcb, hostVMCB uintptr, regs *Regs, fpu uintptr, fast *Fast)
