package kernel

// shutdown powers off with an exit status (0 = success): through QEMU's
// isa-debug-exit or a reset on metal, a shutdown hypercall in a guest.
// Kernel context.
func shutdown(code int) {
	hwPowerOff(code)
	for {
		causeTripleFault()
	}
}
