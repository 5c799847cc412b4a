// Command grove is the hypervisor image: linked with the stock Go toolchain
// for linux/amd64, made bootable by cmd/groveimg, and run on package kernel's
// Linux-compatible system calls at ring 0.
//
// Kernel command line words (QEMU -append, GRUB multiboot line); this
// program reads all but cpus=, which package kernel reads at boot:
//
//	selftest[=FILTER]  run the in-image tests, print results, power off
//	crash=nil          dereference nil in Go code (a Go panic with trace)
//	crash=kernel       fault in kernel code (register dump, symbolized RIP)
//	crash=double       double fault in the kernel (handled on its own IST stack)
//	crash=kernel-ap    crash=kernel on the last CPU (an application processor)
//	crash=nil-ap       crash=nil there
//	bench              print in-image micro-benchmarks, power off
//	bench=exits        time guest exits under Grove's handling, Go's alone
//	                   and the floor (hv.ExitBench), power off
//	guest=NAME         start a built-in guest (repeatable; the names are
//	                   guests/asm's Builtin: hello, heartbeat, spin, work,
//	                   cpuid, results, unmapped, triple, fuzz, bench,
//	                   cpuidscan, exitloop, ctl, dom0)
//	demo               start three heartbeat guests
//	timeslice=MS       the scheduler's slice, 1..1000 ms (default 10, or the
//	                   bundle's timeslice_ms)
//	cpus=N             start at most N CPUs, the boot CPU included (kernel)
//
// Boot modules are boot bundles (docs/bundle.md) or raw PVH images whose
// strings say name=, mem= (MiB), vcpus= (1..16) and privileged (args.go).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"grove/kernel"
	"grove/kernel/selftest"
)

func main() {
	args := os.Args[1:]
	banner()
	startGuests(args)
	for _, a := range args {
		switch {
		case a == "crash=nil":
			var p *[8]int
			fmt.Println(p[3])
		case a == "bench":
			kernel.RunBenchmarks(os.Stdout)
			kernel.Shutdown(0)
		case a == "bench=smp":
			kernel.RunSMPBenchmarks(os.Stdout)
			kernel.Shutdown(0)
		case a == "bench=exits":
			kernel.Shutdown(exitBench())
		case a == "crash=kernel":
			kernel.CrashKernel()
		case a == "crash=kernel-ap" || a == "crash=nil-ap":
			crashOnAP(strings.TrimSuffix(strings.TrimPrefix(a, "crash="), "-ap"))
		case a == "crash=double":
			kernel.DoubleFault()
		case a == "selftest" || strings.HasPrefix(a, "selftest="):
			_, filter, _ := strings.Cut(a, "=")
			_, failed := selftest.Run(os.Stdout, filter)
			kernel.Shutdown(failed)
		}
	}
	prompt()
}

func banner() {
	b := &kernel.Boot
	fmt.Printf("Grove hypervisor (boot protocol %s, command line %q)\n", b.Protocol, b.Cmdline())
	fmt.Println("memory map:")
	if b.MemDropped > 0 {
		fmt.Printf("  (%d more regions dropped: the table holds %d; their memory is not used)\n", b.MemDropped, len(b.Mem))
	}
	for _, r := range b.Mem[:b.NMem] {
		fmt.Printf("  %#012x-%#012x %s\n", r.Base, r.Base+r.Len-1, memType(r.Type))
	}
	m := kernel.ReadMemInfo()
	fmt.Printf("memory: %d MiB usable, %d MiB free\n", m.Total>>8, m.Free>>8)
	f := kernel.CPUFeatures()
	fmt.Printf("cpu: %s %q\n", f.Vendor, f.Brand)
	fmt.Printf("cpu: SVM=%v NPT=%v ASIDs=%d NRIPS=%v VGIF=%v decode-assists=%v\n",
		f.SVM, f.NPT, f.ASIDs, f.NRIPS, f.VGIF, f.DecodeAssist)
	tsc, lapic := kernel.Clock()
	fmt.Printf("clock: TSC %d MHz, LAPIC timer %d MHz\n", tsc/1e6, lapic/1e6)
}

func memType(t uint32) string {
	switch t {
	case 1:
		return "usable"
	case 3:
		return "ACPI"
	case 4:
		return "ACPI NVS"
	case 5:
		return "bad"
	}
	return "reserved"
}

// crashOnAP crashes (what: "kernel" or "nil") on the last CPU, so that the
// report from an application processor is checked: it must name that CPU
// and look as the boot CPU's does.
func crashOnAP(what string) {
	runtime.LockOSThread()
	cpu := kernel.OnlineCPUs() - 1
	if err := kernel.PinThread(cpu); err != nil || cpu == 0 {
		fmt.Printf("grove: crash on an AP: no AP to run on (%d CPUs online, %v)\n", cpu+1, err)
		kernel.Shutdown(1)
	}
	fmt.Printf("grove: crashing on cpu %d\n", kernel.CurrentCPU())
	if what == "kernel" {
		kernel.CrashKernel()
	}
	var p *[8]int
	fmt.Println(p[3])
}
