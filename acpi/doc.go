// Package acpi finds the CPUs and interrupt controllers of a PC in its ACPI
// tables, and builds such tables for guests and tests.
//
// It implements the parts of the ACPI Specification 6.5 that CPU bring-up
// needs: the RSDP (§5.2.5: the loader's pointer, else the BIOS scan of the
// EBDA and 0xE0000-0xFFFFF), the RSDT and XSDT (§5.2.7, §5.2.8), the system
// description table header and checksum (§5.2.6), and the MADT (§5.2.12) with
// its Processor Local APIC (type 0), I/O APIC (1), Interrupt Source Override
// (2), Local APIC NMI (4), Local APIC Address Override (5), Processor Local
// x2APIC (9) and Local x2APIC NMI (10) entries. Other tables are reachable by
// signature through FindTable (the hypervisor reads the FADT that way).
//
// The kernel calls FindRSDP, FindTable and ParseMADT on its boot path, before
// the Go runtime is up, so the parse path must never allocate, call fmt, use
// maps, escape closures, grow a slice with append, or panic: physical memory
// is reached only through the caller's Memory accessor, results go into
// fixed-size arrays inside value structs (entries past an array's size are
// counted, not stored), every index is checked against the slice the accessor
// gave, every loop advances by at least one byte, and errors are statically
// initialised variables of type Error (this package runs no init code)
// whose text is the boot log's message ("acpi: MADT checksum bad").
// Tests prove the zero allocation (testing.AllocsPerRun) and fuzz the parser
// over arbitrary memory images. The Builder is the exception: it runs in
// ordinary Go (tests, and writing tables into a guest's memory, or handing
// them to QEMU's firmware through fw_cfg with QEMULoader) and allocates.
//
// Why not an existing parser: u-root's pkg/acpi (v0.16.0, already in the
// module graph) reads tables through /dev/mem and /sys with memio, allocates
// every table, builds errors with fmt, and has no MADT decoder; the Go kernels
// that parse ACPI (gopher-os, eggos) cast table memory to structs with unsafe
// and are not maintained. So this package stays small and table-driven.
package acpi
