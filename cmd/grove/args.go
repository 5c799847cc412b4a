package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"grove/hv"
)

// Parsing what the loader hands Grove: the command line's hypervisor words
// and raw boot modules' strings. Pure functions: no kernel, no hypervisor.

// bootArgs is what the command line asks of the hypervisor.
type bootArgs struct {
	guests []string      // built-in guests to start, in order
	slice  time.Duration // 0: the bundle's, or hv's default
}

// parseBootArgs reads guest=NAME, demo (three heartbeats) and timeslice=MS;
// other words are not the hypervisor's. A bad timeslice is reported and
// the default used: Grove boots regardless.
func parseBootArgs(args []string) (bootArgs, []error) {
	var b bootArgs
	var errs []error
	for _, a := range args {
		if a == "demo" {
			b.guests = append(b.guests, "heartbeat", "heartbeat", "heartbeat")
		}
		if n, ok := strings.CutPrefix(a, "guest="); ok {
			b.guests = append(b.guests, n)
		}
		if v, ok := strings.CutPrefix(a, "timeslice="); ok {
			if ms, err := strconv.Atoi(v); err == nil && ms >= 1 && ms <= 1000 {
				b.slice = time.Duration(ms) * time.Millisecond
			} else {
				errs = append(errs, fmt.Errorf("timeslice=%s: want milliseconds 1..1000; using the default", v))
			}
		}
	}
	return b, errs
}

// defaultModuleMB is a raw module's memory unless mem= says otherwise.
const defaultModuleMB = 64

// parseModule reads a raw module's string (QEMU: -initrd "FILE name=web1
// mem=64 privileged ARGS,..."): name= names the domain (else defName),
// mem= sizes it in MiB, vcpus= gives it vCPUs (1..16; more than the CPUs
// time-share), privileged makes it the control domain, and the
// whole string is the guest's command line. A word it cannot use is refused
// with the module's name, as the boot bundle refuses a bad grove.toml:
// starting a domain other than the one asked for would be worse.
func parseModule(defName, cmdline string) (hv.Config, error) {
	cfg := hv.Config{Name: defName, MemoryMB: defaultModuleMB, Cmdline: cmdline}
	var seenName, seenMem, seenVCPUs bool
	var errs []error
	for _, w := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(w, "name="); ok {
			switch {
			case seenName:
				errs = append(errs, fmt.Errorf("%s: name= given twice", w))
			case v == "":
				errs = append(errs, errors.New("name=: empty"))
			default:
				cfg.Name = v
			}
			seenName = true
		}
		if v, ok := strings.CutPrefix(w, "mem="); ok {
			mb, err := strconv.ParseUint(v, 10, 31)
			switch {
			case seenMem:
				errs = append(errs, fmt.Errorf("%s: mem= given twice", w))
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: not a number of MiB", w))
			default:
				cfg.MemoryMB = int(mb)
			}
			seenMem = true
		}
		if v, ok := strings.CutPrefix(w, "vcpus="); ok {
			n, err := strconv.ParseUint(v, 10, 8)
			switch {
			case seenVCPUs:
				errs = append(errs, fmt.Errorf("%s: vcpus= given twice", w))
			case err != nil || n < 1 || n > hv.MaxVCPUs:
				errs = append(errs, fmt.Errorf("%s: not a number of vCPUs in 1..%d", w, hv.MaxVCPUs))
			default:
				cfg.VCPUs = int(n)
			}
			seenVCPUs = true
		}
		if w == "privileged" {
			cfg.Privileged = true
		}
	}
	if len(errs) > 0 {
		return hv.Config{}, fmt.Errorf("module %q: %w", cfg.Name, errors.Join(errs...))
	}
	return cfg, nil
}

// linuxCmdline is a raw Linux (or multiboot) module's command line as the
// kernel gets it: the module's string without the words parseModule reads
// (name=, mem=, vcpus=, privileged), since Linux would take mem=256 as a
// 256-byte memory limit and a test kernel would take them as arguments.
func linuxCmdline(line string) string {
	var kept []string
	for _, w := range strings.Fields(line) {
		grove := w == "privileged" || strings.HasPrefix(w, "name=") || strings.HasPrefix(w, "mem=") ||
			strings.HasPrefix(w, "vcpus=")
		if !grove {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// initrdFor reads a raw module string's initrd-for=NAME: the module is then
// the initrd of the raw Linux module whose domain is NAME, not a domain of
// its own (QEMU: -initrd "vmlinuz name=linux mem=256 console=ttyS0,
// initramfs.cpio initrd-for=linux"). ok is false when the word is absent.
func initrdFor(line string) (name string, ok bool, err error) {
	for _, w := range strings.Fields(line) {
		v, found := strings.CutPrefix(w, "initrd-for=")
		switch {
		case !found:
		case ok:
			return "", true, fmt.Errorf("%s: initrd-for= given twice", w)
		case v == "":
			return "", true, errors.New("initrd-for=: empty")
		default:
			name, ok = v, true
		}
	}
	return name, ok, nil
}
