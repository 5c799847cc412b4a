// Command groveimg makes a stock Go linux/amd64 kernel ELF bootable by
// multiboot v1 loaders (GRUB, QEMU -kernel), multiboot2 loaders (GRUB under
// BIOS and UEFI) and PVH (QEMU -kernel, Xen).
// The work is done by package grove/boot/image; this is only the CLI.
//
// Usage:
//
//	groveimg [-entry sym] [-pagetables sym] [-protocols multiboot,multiboot2,pvh] -o out.elf in.elf
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"grove/boot/image"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process exit, so tests can drive it.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("groveimg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output `file` (required)")
	entry := fs.String("entry", image.DefaultEntry, "64-bit entry `symbol` (an assembly function)")
	pt := fs.String("pagetables", image.DefaultPageTables, "BSS `symbol` of at least 7*4096 bytes for boot page tables")
	protos := fs.String("protocols", "multiboot,multiboot2,pvh", "boot protocols to add, comma-separated: multiboot, multiboot2, pvh")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: groveimg [flags] -o OUT.elf IN.elf")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	p, err := image.ParseProtocols(*protos)
	if err != nil {
		fmt.Fprintln(stderr, "groveimg:", err)
		return 2
	}
	if err := patchFile(fs.Arg(0), *out, image.Options{Entry: *entry, PageTables: *pt, Protocols: p}, stdout); err != nil {
		fmt.Fprintln(stderr, "groveimg:", err)
		return 1
	}
	return 0
}

func patchFile(in, out string, opt image.Options, stdout io.Writer) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	r, err := image.Patch(b, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := os.WriteFile(out, r.Image, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(stdout, r.Summary())
	return nil
}
