// Command kvmpeer is the KVM peer of Grove's exit benchmark (make bench,
// qemu/bench_test.go): the /init of a Linux initramfs that loads KVM
// (irqbypass, kvm, kvm-amd from /modules), runs a real-mode guest through
// /dev/kvm that loops on CPUID (exits KVM handles in the kernel) and on
// port writes (exits to this program), and prints the cost of each as
// "kvm: cpuid-exit N ns" and "kvm: io-exit-user N ns", the best of a few
// rounds, then "kvm: done" and powers off. Only the standard library: the
// KVM ABI is in kvm.go.
//
// With `linux-boot` as its argument (after `--` on the kernel's command
// line) it is instead the QEMU/KVM peer of BenchmarkLinuxBoot
// (linuxboot.go).
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

const (
	cpuidPerRound = 5_000
	ioPerRound    = 2_000
	rounds        = 8
)

func main() {
	out, err := setup()
	if err != nil {
		fail(out, err)
	}
	if len(os.Args) > 1 && os.Args[1] == "linux-boot" {
		linuxBoot(out)
	}
	vm, err := newVM(guestCode(cpuidPerRound, ioPerRound))
	if err != nil {
		fail(out, err)
	}
	var bestCPUID, bestIO time.Duration
	for i := 0; i < rounds; i++ {
		c, io, err := vm.round()
		if err != nil {
			fail(out, err)
		}
		c /= cpuidPerRound
		io /= ioPerRound
		fmt.Fprintf(out, "kvm: round %d cpuid-exit %d ns io-exit-user %d ns\n", i, c.Nanoseconds(), io.Nanoseconds())
		if bestCPUID == 0 || c < bestCPUID {
			bestCPUID = c
		}
		if bestIO == 0 || io < bestIO {
			bestIO = io
		}
	}
	fmt.Fprintf(out, "kvm: cpuid-exit %d ns\nkvm: io-exit-user %d ns\nkvm: done\n", bestCPUID.Nanoseconds(), bestIO.Nanoseconds())
	powerOff()
}

// setup mounts devtmpfs, opens the console and loads the KVM modules.
func setup() (*os.File, error) {
	os.Mkdir("/dev", 0o755)
	if err := syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, ""); err != nil && err != syscall.EBUSY {
		return os.Stdout, fmt.Errorf("mount devtmpfs: %v", err)
	}
	out, err := os.OpenFile("/dev/console", os.O_WRONLY, 0)
	if err != nil {
		out = os.Stdout
	}
	for _, m := range []string{"irqbypass", "kvm", "kvm-amd"} {
		if err := loadModule("/modules/" + m + ".ko"); err != nil {
			return out, fmt.Errorf("loading %s: %v", m, err)
		}
	}
	return out, nil
}

// loadModule loads the module at path with the parameters in the file
// beside it with .params for .ko, if there is one ("vgif=0 avic=0").
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	p, _ := os.ReadFile(strings.TrimSuffix(path, ".ko") + ".params")
	params := append([]byte(strings.TrimSpace(string(p))), 0)
	const sysFinitModule = 313
	_, _, e := syscall.Syscall(sysFinitModule, f.Fd(), uintptrOf(&params[0]), 0)
	if e != 0 && e != syscall.EEXIST {
		return e
	}
	return nil
}

func fail(out *os.File, err error) {
	fmt.Fprintf(out, "kvm: failed: %v\n", err)
	powerOff()
}

func powerOff() {
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
