package kernel

// Single-instruction wrappers, defined in cpu_amd64.s. They are the only door
// to ports, MSRs and control registers: the one register-access layer.
// All are ABI0 assembly and safe to call from kernel context (they use no stack
// beyond their arguments).

func outb(port uint16, val uint8)
func inb(port uint16) uint8
func outl(port uint16, val uint32)
func inl(port uint16) uint32
func rdmsr(msr uint32) uint64
func wrmsr(msr uint32, val uint64)
func rdtsc() uint64
func rdtscp() (tsc uint64, aux uint32) // aux: TSC_AUX, the CPU index here
func readCR2() uint64
func readCR3() uint64
func writeCR3(val uint64)
func readCR0() uint64
func writeCR0(val uint64)
func readCR4() uint64
func writeCR4(val uint64)
func invlpg(addr uintptr)
func lgdt(desc uintptr)
func lidt(desc uintptr)
func ltr(sel uint16)
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func rdrand() (val uint64, ok bool)
func pause() // PAUSE: spin-wait hint

// thisCPUAddr returns the address of the executing CPU's per-CPU block
// (GS base; thisCPU in percpu.go types it).
func thisCPUAddr() uintptr

// MSRs the kernel alone uses (the rest are in package x86).
const msrTSCAux = 0xc0000103 // TSC_AUX, read by RDTSCP

func causeTripleFault()
func fxsave(addr uintptr)
func fninit()

// Defined in boot_amd64.s and trap_amd64.s.
func bootAddrs() (entry, pagetables, end uintptr)
func rt0Addr() uintptr
func vectorStubsAddr() uintptr
func enterUser(sp uintptr, pc uintptr)
