// Command kvminit is the /init of the conformance runner's KVM peer
// (docs/conformance.md): Debian's kernel boots it in QEMU's TCG, it loads
// KVM (irqbypass, kvm, kvm-amd from /modules), then runs the host's own
// qemu-system-x86_64, packed into the initramfs with its libraries and
// firmware, with -accel kvm once per test of /tests.json, echoes what
// QEMU prints to the console in package peer's lines, and powers off. It
// decides nothing about the results: the runner reads them.
//
// Built with CGO_ENABLED=0 (a static binary: the initramfs has no libc of
// its own besides QEMU's).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"grove/cmd/conformance/peer"
	"grove/internal/kvmhost"
)

func main() {
	con := console()
	tests, err := setup()
	if err != nil {
		fmt.Fprint(con, peer.SetupFailed(err))
		powerOff()
	}
	for _, t := range tests {
		runTest(con, t)
	}
	fmt.Fprint(con, peer.Done)
	powerOff()
}

// console mounts devtmpfs and opens /dev/console (stdout if it cannot).
func console() io.Writer {
	os.Mkdir("/dev", 0o755)
	syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	out, err := os.OpenFile("/dev/console", os.O_WRONLY, 0)
	if err != nil {
		return os.Stdout
	}
	return out
}

// setup mounts what QEMU reads (/proc, /sys, a /tmp), loads KVM and reads
// the tests.
func setup() ([]peer.Test, error) {
	for _, m := range []struct{ fs, dir string }{{"proc", "/proc"}, {"sysfs", "/sys"}, {"tmpfs", "/tmp"}, {"tmpfs", "/dev/shm"}} {
		os.MkdirAll(m.dir, 0o755)
		if err := syscall.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil && err != syscall.EBUSY {
			return nil, fmt.Errorf("mount %s on %s: %v", m.fs, m.dir, err)
		}
	}
	for _, m := range kvmhost.Modules {
		if err := loadModule("/modules/" + m + ".ko"); err != nil {
			return nil, fmt.Errorf("loading %s: %v", m, err)
		}
	}
	if _, err := os.Stat("/dev/kvm"); err != nil {
		return nil, fmt.Errorf("KVM loaded but %v", err)
	}
	b, err := os.ReadFile(peer.TestsFile)
	if err != nil {
		return nil, err
	}
	var tests []peer.Test
	if err := json.Unmarshal(b, &tests); err != nil {
		return nil, fmt.Errorf("%s: %v", peer.TestsFile, err)
	}
	return tests, nil
}

// loadModule is finit_module(2) with no parameters.
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && err != unix.EEXIST {
		return err
	}
	return nil
}

func powerOff() {
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
