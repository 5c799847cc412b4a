//go:build groveguest

package kernel

import (
	"testing"

	"grove/hv/abi"
)

// The guest flavour's copies of hypercall numbers must match hv/abi, which
// the kernel package may not import (run: go test -tags groveguest ./kernel/).
func TestGuestABINumbers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uint64
	}{
		{"set_timer_op", hcSetTimer, abi.SetTimerOp},
		{"console_io", hcConsoleIO, abi.ConsoleIO},
		{"console_write", consoleWriteOp, abi.ConsoleWrite},
		{"console_max", consoleMax, abi.ConsoleMax},
		{"sched_op", hcSchedOp, abi.SchedOp},
		{"sched_shutdown", schedShutdown, abi.SchedShutdown},
		{"shutdown_poweroff", shutdownOff, abi.ShutdownPoweroff},
		{"shutdown_crash", shutdownCrash, abi.ShutdownCrash},
		{"cpuid_timing", cpuidTiming, abi.CPUIDTiming},
		{"vcpu_op", hcVCPUOp, abi.VCPUOp},
		{"vcpu_op_initialise", vcpuOpInitialise, abi.VCPUOpInitialise},
		{"vcpu_op_up", vcpuOpUp, abi.VCPUOpUp},
		{"vcpu_op_down", vcpuOpDown, abi.VCPUOpDown},
		{"vcpu_op_send_ipi", vcpuOpSendIPI, abi.VCPUOpSendIPI},
		{"cpuid_topology", cpuidTopology, abi.CPUIDTopology},
		{"timer_vector", vecTimer, abi.TimerVector},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("kernel has %#x, hv/abi %#x", tc.got, tc.want)
			}
		})
	}
	if vecResched < abi.MinIPIVector || vecTLB < abi.MinIPIVector {
		t.Fatalf("IPI vectors %#x, %#x below send_ipi's minimum %d", vecResched, vecTLB, abi.MinIPIVector)
	}
	// The wait vectors are what a guest binds VIRQs to (hv/abi/virq.go).
	if b := (abi.VIRQBind{VIRQ: abi.VIRQSerial, Vector: WaitVectorBase}); b.Validate() != nil ||
		abi.TimerVector >= WaitVectorBase && abi.TimerVector < WaitVectorBase+WaitVectors {
		t.Fatalf("wait vectors %#x+%d: not bindable, or overlapping the timer's %#x", WaitVectorBase, WaitVectors, abi.TimerVector)
	}
}
