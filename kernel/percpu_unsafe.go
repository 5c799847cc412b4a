package kernel

import "unsafe"

// The GS-relative instructions in trap_amd64.s hard-code these offsets.
func init() {
	var c percpu
	if unsafe.Offsetof(c.scratch) != 0 || unsafe.Offsetof(c.kstack) != 8 ||
		unsafe.Offsetof(c.self) != 16 || unsafe.Offsetof(c.curFPU) != 24 ||
		unsafe.Offsetof(c.newFS) != 32 || unsafe.Offsetof(c.kg) != 40 ||
		unsafe.Offsetof(c.savedG) != 48 {
		panic("kernel: percpu layout does not match trap_amd64.s")
	}
}
