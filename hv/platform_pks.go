package hv

import (
	"sync"

	"grove/kernel"
)

// Supervisor protection keys (Intel SDM vol. 3, 4.6.2): a guest whose
// CPUID shows PKS (the host's bit, passed through) sets CR4.PKS and the
// rights in IA32_PKRS. VMRUN does not switch that MSR, and Grove's kernel
// leaves CR4.PKS clear, so the host ignores its value; each vCPU's value
// is kept here and loaded into the CPU it runs on before it enters
// (prepare in sched_run.go), when the CPU holds another. Without PKS on
// the host the MSR stays absent (#GP), as on AMD hardware.

const msrPKRS = 0x6e1 // IA32_PKRS; bits 63:32 are reserved

// hostHasPKS reports CPUID.(EAX=7,ECX=0):ECX[31] of the host, once; tests
// replace it.
var hostHasPKS = sync.OnceValue(func() bool {
	_, _, c, _ := kernel.CPUID(7, 0)
	return c&cpuid7ECXPKS != 0
})

// pcPKRS reads or writes v's IA32_PKRS; false means #GP.
func pcPKRS(v *VCPU, write bool, val uint64) (uint64, bool) {
	switch {
	case !hostHasPKS() || write && val>>32 != 0:
		return 0, false
	case write:
		v.pkrs = val
		return 0, true
	}
	return v.pkrs, true
}

// loadPKRS gives c's IA32_PKRS v's value if it holds another. Caller is
// on c, before entering v.
func loadPKRS(c *pcpu, v *VCPU) {
	if c.pkrs != v.pkrs && hostHasPKS() {
		kernel.WriteMSR(msrPKRS, v.pkrs)
		c.pkrs = v.pkrs
	}
}
