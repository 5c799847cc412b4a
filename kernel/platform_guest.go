//go:build groveguest

package kernel

// The guest platform: Grove's own image (or any program on this kernel) run
// as a PVH guest of Grove. Console, timer and power-off are hypercalls; the
// TSC rate comes from the hypervisor's CPUID leaf; the timer interrupt is a
// virtual interrupt that needs no EOI. Numbers are Grove's hypercall ABI
// (hv/abi, which kernel may not import: it sits below hv).
const (
	isGuest   = true
	minMemory = 24 << 20

	hcSetTimer     = 15
	hcConsoleIO    = 18
	hcSchedOp      = 29
	consoleWriteOp = 0
	consoleMax     = 4096
	schedShutdown  = 2
	shutdownOff    = 0
	shutdownCrash  = 3
	cpuidTiming    = 0x40000010
)

// vcpu_op, from hv/abi/vcpu.go (see there for the byte layout and errnos):
// a guest starts and interrupts its own secondary vCPUs.
const (
	hcVCPUOp         = 24
	vcpuOpInitialise = 0 // arg: address of a vcpuContext (vcpuctx.go)
	vcpuOpUp         = 1
	vcpuOpDown       = 2
	vcpuOpSendIPI    = 0x1000     // Grove's: arg = vector (32..255)
	cpuidTopology    = 0x40000002 // EAX = vCPUs in the domain, EBX = the asker's id
)

// hypercall is VMMCALL with RAX = nr and RDI, RSI, RDX = a, b, c.
func hypercall(nr, a, b, c uintptr) uintptr

// Boot path.
func hwConsoleInit() {}

// Kernel context.
func hwPut(b []byte) {
	for len(b) > 0 {
		n := min(len(b), consoleMax)
		hypercall(hcConsoleIO, consoleWriteOp, uintptr(n), uintptrOf(&b[0]))
		b = b[n:]
	}
}

// Kernel context.
func hwGet(b []byte) int { return 0 }

// Boot path.
func hwInterruptsInit() {}

// Kernel context.
func hwEOI() {}

// Boot path.
func hwCalibrate() {
	khz, _, _, _ := cpuid(cpuidTiming, 0)
	if khz == 0 {
		khz = 1_000_000 // not under Grove: assume 1 GHz rather than divide by zero
	}
	tscHz = uint64(khz) * 1000
	tscMul = (1_000_000_000 << 32) / tscHz
	tsc0 = rdtsc()
}

// Kernel context.
func hwTimerArm(ns int64) {
	hypercall(hcSetTimer, uintptr(rdtsc()+uint64(ns)*tscHz/1_000_000_000), 0, 0)
}

// Kernel context.
func hwTimerStop() { hypercall(hcSetTimer, 0, 0, 0) }

// Kernel context.
func hwPowerOff(code int) {
	reason := uintptr(shutdownOff)
	if code != 0 {
		reason = shutdownCrash
	}
	hypercall(hcSchedOp, schedShutdown, reason, 0)
}

// Hypercall makes a hypercall from thread context (a Go guest's control
// agent). Buffers passed by address must be mapped: see Touch.
func Hypercall(nr, a, b, c uintptr) int64 { return int64(hypercall(nr, a, b, c)) }

// Touch reads every page of b so that the hypervisor's walk of this guest's
// page tables finds them (the kernel backs Go memory on first touch).
func Touch(b []byte) {
	for i := 0; i < len(b); i += pageSize {
		touchSink += b[i]
	}
	if len(b) > 0 {
		touchSink += b[len(b)-1]
	}
}

var touchSink byte
