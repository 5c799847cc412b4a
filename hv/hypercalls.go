package hv

import "grove/hv/abi"

// hypercalls is Grove's hypercall table, all of it, indexed by number (ABI
// in package abi). An array, not a map: every VMMCALL exit looks it up,
// and hashing is costly under emulation.
var hypercalls = [maxHypercall]hcallFn{
	abi.SetTimerOp: hcallSetTimer,  // hypercall.go
	abi.ConsoleIO:  hcallConsoleIO, // hypercall.go
	abi.SchedOp:    hcallSchedOp,   // hypercall.go
	abi.Sysctl:     hcallSysctl,    // sysctl.go
	abi.Domctl:     hcallDomctl,    // domctl.go
	abi.EventOp:    hcallEventOp,   // events.go
	abi.VCPUOp:     hcallVCPUOp,    // vcpuop.go
}

const maxHypercall = 64
