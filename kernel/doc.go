// Package kernel runs the stock Go runtime (GOOS=linux, GOARCH=amd64) at ring 0
// on bare metal by answering the Linux system calls the runtime makes. It
// owns booting (entry64, bootMain), physical memory and page tables, the
// GDT/TSS/IDT, traps and interrupts, threads (kernel tasks behind clone),
// futexes, signals, timers and the console. It knows nothing of
// virtualization.
//
// Two kinds of code live here. Thread-context code (api.go, selftests.go,
// bench.go) is ordinary Go. Kernel-context code is everything reached from
// trap(): it runs with interrupts off on the CPU's kernel stack with a fake g
// (gdt.go), so it must never allocate, panic, take a Go lock, or store a Go
// pointer into memory the GC scans — it uses integers, fixed arrays and
// identity-mapped physical addresses. Nothing in it is //go:nosplit: the fake
// g's stack bounds make the compiler's stack checks pass on the kernel stack,
// and a check that fails (a 64 KiB kernel stack overflow) is a kernel bug.
// The boot path (bootMain, apMain and below) runs before the runtime with
// the same rules.
//
// Each function that runs in kernel context says so in one line of its doc
// comment, "Kernel context." (reached from trap) or "Boot path." (reached
// only from bootMain or apMain), with what else holds ("BKL held"). `make
// vet` (cmd/kcheck) fails when a function reached from those entry points
// lacks the line or when escape analysis finds a heap allocation in one
// that has it, in both flavours. See docs/kernel.md.
package kernel
