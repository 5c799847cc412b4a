package asm

import "grove/hv/abi"

// CPUIDScan executes CPUID for every pair of ScanLeaves and ScanSubs and
// a few hypercalls with numbers no handler has, storing the results from
// the start of its data area (the writable PT_LOAD): EAX, EBX, ECX, EDX
// of each pair in order, then RAX after each hypercall of ScanHypercalls.
// It writes "scan done" to the debug port and powers off. Run once with
// the exit fast path and once without (hv's self-test), the two data
// areas must be equal.
func CPUIDScan() ([]byte, error) {
	p := New()
	pairs := ScanPairs()
	out := p.Data(make([]byte, 16*len(pairs)+4*len(ScanHypercalls)))
	for i, pr := range pairs {
		at := out + uint32(16*i)
		p.Mov(EAX, pr[0]).Mov(ECX, pr[1]).CPUID()
		p.StoreReg(at, EAX).StoreReg(at+4, EBX).StoreReg(at+8, ECX).StoreReg(at+12, EDX)
	}
	for i, nr := range ScanHypercalls {
		p.Mov(EAX, nr).VMMCALL().Store(out + uint32(16*len(pairs)+4*i))
	}
	msg := p.Data([]byte("scan done\n\x00"))
	p.Mov(ESI, msg)
	p.Label("loop").LoadByte(ESI).TestRR(EAX, EAX).Jz("done").OutAL(abi.DebugPort).Inc(ESI).Jmp("loop")
	p.Label("done")
	return p.poweroff().Image()
}

// ScanHypercalls are hypercall numbers without handlers (the null
// hypercall's kind: -ENOSYS).
var ScanHypercalls = []uint32{0xfff, 63, 64, 1000}

// ScanPairs are CPUIDScan's (leaf, subleaf) pairs: the basic, Grove's and
// the extended leaves and a few beyond, each with subleaves 0, 1, 2 and 5.
func ScanPairs() [][2]uint32 {
	var pairs [][2]uint32
	for _, r := range [][2]uint32{{0, 0x20}, {abi.CPUIDSignature, abi.CPUIDSignature + 0x11}, {0x80000000, 0x80000022}} {
		for leaf := r[0]; leaf <= r[1]; leaf++ {
			for _, sub := range []uint32{0, 1, 2, 5} {
				pairs = append(pairs, [2]uint32{leaf, sub})
			}
		}
	}
	return pairs
}

// ExitLoop runs CPUID and a null hypercall in a loop for ever, never
// sleeping: with the exit fast path it may stay in the VMRUN loop for its
// whole slice, so it shows whether the slice's end still takes it off the
// CPU.
func ExitLoop() ([]byte, error) {
	p := New()
	p.write("exit loop\n")
	p.Label("top").Mov(EAX, 0).Mov(ECX, 0).CPUID()
	p.Mov(EAX, 0xfff).VMMCALL()
	return p.Jmp("top").Image()
}
