// Command gen writes guests/asm's built-in guests as NAME.elf into a
// directory (go generate in guests/builtin), replacing what was there.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"grove/guests/asm"
)

func main() {
	dir := flag.String("o", "images", "output directory")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	old, _ := filepath.Glob(filepath.Join(dir, "*.elf"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, build := range asm.Builtin {
		img, err := build()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".elf"), img, 0o644); err != nil {
			return err
		}
	}
	return nil
}
