// Package builtin holds the tiny assembly guests built into Grove's image
// (guest=NAME on the command line), as prebuilt PVH ELF images. They are
// generated from guests/asm's Builtin table by `go generate
// ./guests/builtin`; a host test fails when they are stale. The image links
// this package, never the assembler.
package builtin

//go:generate go run ./gen -o images

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

//go:embed images/*.elf
var images embed.FS

// Image returns the image of built-in guest name (a fresh copy: the caller
// may keep or change it).
func Image(name string) ([]byte, bool) {
	if strings.ContainsAny(name, "/.") {
		return nil, false
	}
	b, err := images.ReadFile("images/" + name + ".elf")
	return b, err == nil
}

// Names lists the built-in guests, sorted.
func Names() []string {
	files, _ := fs.Glob(images, "images/*.elf")
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(f, "images/"), ".elf"))
	}
	slices.Sort(out)
	return out
}

// Privileged reports whether built-in guest name is a control domain's (it
// runs domctl, which only dom0 may).
func Privileged(name string) bool { return name == "ctl" || name == "dom0" }
