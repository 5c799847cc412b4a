// Package bundle reads and writes Grove's boot bundle: a newc cpio archive
// (cpio(5), "New ASCII Format") that the boot loader hands Grove as a
// module, holding grove.toml at its root and the guest images it names.
// The schema is in docs/bundle.md.
//
// Parse refuses a bundle that could not boot as described, before any
// domain is built: bad cpio, unknown or out-of-range config keys, missing
// or broken images, images that do not fit their domain's memory. The same
// checks run at build time (cmd/grovebundle), so a bad bundle is caught on
// the host. The package is pure Go and allocates no guest memory.
package bundle

import (
	"errors"
	"fmt"

	"grove/boot/guest"
)

// Bundle is a checked boot bundle.
type Bundle struct {
	Config Config
	// Files holds every regular file by path, grove.toml included. The
	// contents are slices of the archive given to Parse, not copies.
	Files  map[string][]byte
	images map[string]*guest.Image // by domain name
}

// Parse reads and checks a bundle. Errors start with "bundle:" or with
// the config file's name.
func Parse(data []byte) (*Bundle, error) {
	files, err := readArchive(data)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	cfgData, ok := files[ConfigName]
	if !ok {
		return nil, fmt.Errorf("bundle: no %s at the root of the archive", ConfigName)
	}
	cfg, err := ParseConfig(cfgData)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Config: *cfg, Files: files, images: map[string]*guest.Image{}}
	if err := b.loadImages(); err != nil {
		return nil, err
	}
	return b, nil
}

// loadImages parses each image file once, reporting a broken one once
// however many domains use it, and checks that each domain's image fits
// its memory with its command line.
func (b *Bundle) loadImages() error {
	var errs []error
	parsed := map[string]*guest.Image{}
	failed := map[string]bool{}
	for _, d := range b.Config.Domains {
		if failed[d.Image] {
			continue
		}
		img, err := b.image(d, parsed)
		if err != nil {
			failed[d.Image] = true
			errs = append(errs, err)
			continue
		}
		if _, err := guest.NewPlan(img, uint64(d.MemoryMB)<<20, d.Cmdline, nil); err != nil {
			errs = append(errs, fmt.Errorf("bundle: domain %q: %w", d.Name, err))
			continue
		}
		b.images[d.Name] = img
	}
	return errors.Join(errs...)
}

func (b *Bundle) image(d DomainConfig, parsed map[string]*guest.Image) (*guest.Image, error) {
	if img, ok := parsed[d.Image]; ok {
		return img, nil
	}
	data, ok := b.Files[d.Image]
	if !ok {
		return nil, fmt.Errorf("bundle: %s: referenced by domain %q but not in the bundle", d.Image, d.Name)
	}
	img, err := guest.ParseImage(d.Image, data)
	if err != nil {
		return nil, fmt.Errorf("bundle: domain %q: %w", d.Name, err)
	}
	parsed[d.Image] = img
	return img, nil
}

// Image returns the parsed image of the domain called name. Domains that
// share an image file share the *guest.Image; it is read-only.
func (b *Bundle) Image(name string) (*guest.Image, error) {
	img, ok := b.images[name]
	if !ok {
		return nil, fmt.Errorf("bundle: no domain %q", name)
	}
	return img, nil
}
