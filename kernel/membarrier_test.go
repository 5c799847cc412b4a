package kernel

import (
	"testing"

	"grove/errno"
)

// TestMembarrierCommands runs the command dispatch on one CPU (no IPIs):
// Linux's answers, EPERM before registration included.
func TestMembarrierCommands(t *testing.T) {
	defer func(n int, reg bool) { onlineCPUs, mbRegistered = n, reg }(onlineCPUs, mbRegistered)
	onlineCPUs, mbRegistered = 1, false
	for _, tc := range []struct {
		name       string
		cmd, flags uint64
		want       uint64
	}{
		{"query", mbCmdQuery, 0, mbCmdGlobal | mbCmdPrivateExpedited | mbCmdRegisterPrivateExpedited},
		{"query-with-flags", mbCmdQuery, 1, sysErr(errno.EINVAL)},
		{"private-expedited-unregistered", mbCmdPrivateExpedited, 0, sysErr(errno.EPERM)},
		{"global", mbCmdGlobal, 0, 0},
		{"register-private-expedited", mbCmdRegisterPrivateExpedited, 0, 0},
		{"private-expedited", mbCmdPrivateExpedited, 0, 0},
		{"private-expedited-with-flags", mbCmdPrivateExpedited, 1, sysErr(errno.EINVAL)},
		{"global-expedited", 1 << 1, 0, sysErr(errno.EINVAL)},
		{"private-expedited-sync-core", 1 << 5, 0, sysErr(errno.EINVAL)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sysMembarrierFn(nil, &TrapFrame{RDI: tc.cmd, RSI: tc.flags}); got != tc.want {
				t.Fatalf("membarrier(%#x, %#x) = %#x, want %#x", tc.cmd, tc.flags, got, tc.want)
			}
		})
	}
}
