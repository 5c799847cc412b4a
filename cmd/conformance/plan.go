package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A job is one test ready to run both ways, or the reason it is skipped
// before running (as the suite's scripts/runtime.bash decides it).
type job struct {
	unittest
	kernel   string        // DIR/x86/file
	vcpus    int           // -smp
	args     []string      // test_args, shell-evaluated
	params   []string      // qemu_params, shell-evaluated
	limit    time.Duration // the cfg's timeout or the default
	skip     string        // non-empty: not run, and why
	memoryMB int           // -m in params, or QEMU's default
	extra    bool          // not in the cfg: for the exit table only (extraExits)
}

// QEMU's default RAM for -kernel runs without -m, and the most a
// multiboot domain may have (boot/guest: above 3 GiB RAM would cover the
// APIC pages).
const (
	defaultMemoryMB = 128
	maxGroveMemory  = 3072
)

// prepare decides whether u runs on x86_64 under TCG, as the suite's run()
// does: nodefault tests (unless all), other architectures, tests for
// another accelerator, failed host checks, missing kernels and
// disabled_if are skipped with the suite's own reasons.
func prepare(u unittest, kut string, all bool) job {
	j := job{unittest: u, kernel: filepath.Join(kut, "x86", u.File), memoryMB: defaultMemoryMB}
	var err error
	switch {
	case slices.Contains(u.Groups, "nodefault") && !all:
		j.skip = "test marked as manual run only"
	case u.Arch != "" && u.Arch != "x86_64":
		j.skip = u.Arch + " only"
	case u.Accel != "" && u.Accel != "tcg":
		j.skip = u.Accel + " only, but ACCEL=tcg"
	case checkFails(u.Check) != "":
		j.skip = checkFails(u.Check)
	case !exists(j.kernel):
		j.skip = fmt.Sprintf("Test file '%s' not found", j.kernel)
	case u.DisabledIf != "" && exec.Command("bash", "-c", u.DisabledIf).Run() == nil:
		j.skip = "disabled because: " + u.DisabledIf
	}
	if j.skip != "" {
		return j
	}
	if j.vcpus, err = u.vcpus(); err == nil {
		j.limit, err = u.timeout()
	}
	if err == nil {
		j.args, err = shellWords(u.TestArgs)
	}
	if err == nil {
		j.params, err = shellWords(u.QEMUParams)
	}
	if err == nil {
		j.memoryMB, err = memoryOf(j.params)
	}
	if err != nil {
		j.skip = err.Error()
	}
	return j
}

// checkFails is the suite's "check" rule: each PATH=VALUE must name a
// host file holding VALUE; the first that does not is the reason to skip.
func checkFails(check string) string {
	for _, c := range strings.Fields(check) {
		path, want, _ := strings.Cut(c, "=")
		got, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(got)) != want {
			return fmt.Sprintf("%s not equal to %s", path, want)
		}
	}
	return ""
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// shellWords splits s into words as bash does (the suite evals these
// values): quotes and command substitution included.
func shellWords(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out, err := exec.Command("bash", "-c", `eval "set -- $1" && printf '%s\0' "$@"`, "words", s).Output()
	if err != nil {
		return nil, fmt.Errorf("shell words of %q: %v", s, err)
	}
	words := strings.Split(string(out), "\x00")
	return words[:len(words)-1], nil
}

// memoryOf reads -m from QEMU parameters: MiB, or with a k, M, G or T
// suffix (QEMU's size syntax; "size=" inside an option list included).
func memoryOf(params []string) (int, error) {
	mb := defaultMemoryMB
	for i, p := range params {
		if p != "-m" || i+1 >= len(params) {
			continue
		}
		v := params[i+1]
		if _, size, ok := strings.Cut(v, "size="); ok {
			v, _, _ = strings.Cut(size, ",")
		}
		shift := 20
		switch v[len(v)-1] {
		case 'k', 'K':
			shift, v = 10, v[:len(v)-1]
		case 'm', 'M':
			v = v[:len(v)-1]
		case 'g', 'G':
			shift, v = 30, v[:len(v)-1]
		case 't', 'T':
			shift, v = 40, v[:len(v)-1]
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("-m %s: not a size", params[i+1])
		}
		mb = int(n << shift >> 20)
	}
	return mb, nil
}

// cpuModel is the -cpu the test asks for, if any (the Grove run cannot
// follow it: the domain sees Grove's CPUID policy over -cpu max).
func cpuModel(params []string) string {
	if i := slices.Index(params, "-cpu"); i >= 0 && i+1 < len(params) {
		return params[i+1]
	}
	return ""
}

// extraDevices lists the -device options of params (the tests that need
// QEMU devices Grove does not model).
func extraDevices(params []string) []string {
	var devs []string
	for i, p := range params {
		if p == "-device" && i+1 < len(params) {
			name, _, _ := strings.Cut(params[i+1], ",")
			devs = append(devs, name)
		}
	}
	return devs
}

// directArgs is the QEMU command line for running j directly under TCG:
// the suite's x86/run line (pc-testdev and isa-debug-exit, no default
// devices, serial on stdout) on Grove's machine type and CPU, then the
// test's own parameters, which override.
func directArgs(j job) []string { return qemuArgs(j, "tcg", "max", j.kernel) }

// qemuArgs is the suite's line with the accelerator, CPU and kernel path
// given; the test's parameters come last.
func qemuArgs(j job, accel, cpu, kernel string) []string {
	args := []string{"-machine", "q35", "-accel", accel, "-nodefaults", "-display", "none", "-serial", "stdio",
		"-no-reboot", "-device", "pc-testdev", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4",
		"-cpu", cpu, "-kernel", kernel, "-smp", strconv.Itoa(j.vcpus)}
	if len(j.args) > 0 {
		args = append(args, "-append", strings.Join(j.args, " "))
	}
	return append(args, j.params...)
}

// groveConfig is the grove.toml of the bundle that runs j as Grove's only
// domain: the kernel, the vCPUs and arguments from the cfg, and its -m.
func groveConfig(j job) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "[[domain]]\nname = %q\nkernel = %q\nmemory_mb = %d\nvcpus = %d\n",
		domainName(j.Name), "x86/"+j.File, min(j.memoryMB, maxGroveMemory), j.vcpus)
	if len(j.args) > 0 {
		fmt.Fprintf(&b, "cmdline = %q\n", strings.Join(j.args, " "))
	}
	return b.Bytes()
}

// domainName makes a test name a valid domain name (a-z, 0-9, -).
func domainName(test string) string {
	b := []byte(strings.ToLower(test))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return string(b[:min(len(b), 32)])
}
