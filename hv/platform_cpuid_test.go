package hv

import (
	"testing"

	"grove/hv/abi"
	"grove/hv/pc"
	"grove/x86"
)

// pcCPUID over made-up host values: from a host with no bits set, the
// platform's own features and the per-vCPU ids appear; from a host with
// every bit set, what the platform cannot virtualize is hidden.
func TestPCCPUID(t *testing.T) {
	d := &Domain{}
	for i := 0; i < 3; i++ {
		d.vcpus = append(d.vcpus, &VCPU{dom: d, id: i})
	}
	v := d.vcpus[2]
	type regs [4]uint32 // EAX, EBX, ECX, EDX
	for _, tc := range []struct {
		name     string
		leaf     uint32
		set, clr regs // bits set from a zero host, clear from an all-ones host
	}{
		{"1", 1, regs{0, 2<<24 | 1<<16, cpuid1ECXX2APIC | cpuid1ECXTSCDeadline, 0},
			regs{0, 0, cpuid1ECXMonitor | cpuid1ECXXSAVEFamily, cpuid1EDXMCE | cpuid1EDXMCA | cpuid1EDXHTT}},
		{"6", 6, regs{cpuid6EAXARAT, 0, 0, 0}, regs{}},
		{"7", 7, regs{}, regs{0, cpuid7EBXAVXFamily, cpuid7ECXLA57, cpuid7EDXAVXFamily}},
		{"0xb", 0xb, regs{0, 0, 0, 2}, regs{0, 0, 0, ^uint32(2)}},
		{"ext1", x86.CPUIDLeafExt1, regs{}, regs{0, 0, x86.CPUIDExt1ECXSVM, 0}},
		{"ext8", 0x80000008, regs{0, 0, 2, 0}, regs{0, 0, 0xfd, 0}},
		{"timing", abi.CPUIDTiming, regs{0, pc.TimerHz / 1000, 0, 0}, regs{0, ^uint32(pc.TimerHz / 1000), 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lo, hi regs
			lo[0], lo[1], lo[2], lo[3] = pcCPUID(v, tc.leaf, 0, 0, 0, 0)
			hi[0], hi[1], hi[2], hi[3] = pcCPUID(v, tc.leaf, ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0))
			for r := range lo {
				if lo[r]&tc.set[r] != tc.set[r] || hi[r]&tc.clr[r] != 0 {
					t.Errorf("reg %d: from zero %#x (want %#x set), from ones %#x (want %#x clear)",
						r, lo[r], tc.set[r], hi[r], tc.clr[r])
				}
			}
		})
	}
}
