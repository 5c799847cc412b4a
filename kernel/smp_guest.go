//go:build groveguest

package kernel

// A guest of Grove runs on its boot vCPU only: secondary vCPUs are started
// through the hypervisor (vcpu_op), not with INIT and STARTUP IPIs.

func hwSendIPI(apicID uint32, vector uint8) {}

func startAPs(limit int) {}
