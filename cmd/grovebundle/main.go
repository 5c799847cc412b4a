// Command grovebundle builds a Grove boot bundle (docs/bundle.md) from a
// grove.toml and files on disk, and checks it exactly as Grove will at
// boot (grove/boot/bundle.Parse) before writing it, so a bad config or a
// broken image is refused on the host with the same message.
//
// Usage:
//
//	grovebundle -o out.cpio -config grove.toml [name=path ...]
//
// Each name=path puts the file at path on disk into the bundle as name,
// the path grove.toml's image, kernel and initrd keys use (e.g.
// guests/agent.elf=out/agent.elf).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"grove/boot/bundle"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process exit, so tests can drive it.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("grovebundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output `file` (required)")
	config := fs.String("config", "", "grove.toml `file` (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: grovebundle -o OUT.cpio -config grove.toml [name=path ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || *config == "" {
		fs.Usage()
		return 2
	}
	if err := build(*out, *config, fs.Args(), stdout); err != nil {
		fmt.Fprintln(stderr, "grovebundle:", err)
		return 1
	}
	return 0
}

func build(out, config string, pairs []string, stdout io.Writer) error {
	cfg, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	files, err := readFiles(pairs)
	if err != nil {
		return err
	}
	data, err := bundle.Write(cfg, files)
	if err != nil {
		return err
	}
	b, err := bundle.Parse(data)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d bytes, %d files, %d domains\n", out, len(data), len(b.Files), len(b.Config.Domains))
	return nil
}

func readFiles(pairs []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, p := range pairs {
		name, file, ok := strings.Cut(p, "=")
		if !ok || name == "" || file == "" {
			return nil, fmt.Errorf("%q: want name=path (name inside the bundle, path on disk)", p)
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("%s: given twice", name)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		files[name] = b
	}
	return files, nil
}
