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
	Files   map[string][]byte
	images  map[string]*guest.Image      // PVH domains, by domain name
	kernels map[string]*guest.LinuxImage // Linux domains, by domain name
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
	b := &Bundle{Config: *cfg, Files: files, images: map[string]*guest.Image{}, kernels: map[string]*guest.LinuxImage{}}
	if err := b.loadImages(); err != nil {
		return nil, err
	}
	return b, nil
}

// loadImages parses each image or kernel file once, reporting a broken one
// once however many domains use it, and checks that each domain's image
// fits its memory with its command line (and initrd).
func (b *Bundle) loadImages() error {
	var errs []error
	parsed := map[string]any{} // *guest.Image, *guest.LinuxImage or *guest.MultibootImage, by path
	failed := map[string]bool{}
	for _, d := range b.Config.Domains {
		if failed[d.Boot()] {
			continue
		}
		img, err := b.parse(d, parsed)
		if err != nil {
			failed[d.Boot()] = true
			errs = append(errs, err)
			continue
		}
		if err := b.plan(d, img); err != nil {
			errs = append(errs, fmt.Errorf("bundle: domain %q: %w", d.Name, err))
		}
	}
	return errors.Join(errs...)
}

// parse returns the parsed image or kernel d boots.
func (b *Bundle) parse(d DomainConfig, parsed map[string]any) (any, error) {
	if img, ok := parsed[d.Boot()]; ok {
		return img, nil
	}
	data, ok := b.Files[d.Boot()]
	if !ok {
		return nil, fmt.Errorf("bundle: %s: referenced by domain %q but not in the bundle", d.Boot(), d.Name)
	}
	var img any
	var err error
	switch {
	case d.Kernel != "" && guest.IsBzImage(data):
		img, err = guest.ParseLinux(d.Kernel, data)
	case d.Kernel != "" && guest.IsMultiboot(data):
		img, err = guest.ParseMultiboot(d.Kernel, data)
	case d.Kernel != "":
		err = fmt.Errorf("%s: neither a Linux bzImage (\"HdrS\" at byte 0x202) nor a multiboot kernel (magic 0x1BADB002 with a valid checksum, 4-byte aligned in the first 8 KiB)", d.Kernel)
	case guest.IsMultiboot(data):
		err = fmt.Errorf("%s: a multiboot kernel: name it with kernel, not image (the hypervisor boots a multiboot header before a PVH note)", d.Image)
	case guest.IsBzImage(data):
		err = fmt.Errorf("%s: a Linux bzImage: name it with kernel, not image", d.Image)
	default:
		img, err = guest.ParseImage(d.Image, data)
	}
	if err != nil {
		return nil, fmt.Errorf("bundle: domain %q: %w", d.Name, err)
	}
	parsed[d.Boot()] = img
	return img, nil
}

// plan lays d out in its memory as the hypervisor will, and keeps the image.
func (b *Bundle) plan(d DomainConfig, img any) error {
	mem := uint64(d.MemoryMB) << 20
	switch img := img.(type) {
	case *guest.LinuxImage:
		initrd, ok := b.Files[d.Initrd]
		if d.Initrd != "" && !ok {
			return fmt.Errorf("initrd %s: not in the bundle", d.Initrd)
		}
		cfg := guest.LinuxConfig{MemBytes: mem, Cmdline: d.Cmdline, Initrd: initrd, VCPUs: d.VCPUs}
		if _, err := guest.NewLinuxPlan(img, cfg); err != nil {
			return err
		}
		b.kernels[d.Name] = img
	case *guest.MultibootImage:
		var mods [][]byte
		if d.Initrd != "" {
			m, ok := b.Files[d.Initrd]
			if !ok {
				return fmt.Errorf("initrd %s: not in the bundle", d.Initrd)
			}
			mods = [][]byte{m}
		}
		// The hypervisor names the kernel after its domain (hv.Config has
		// no file name): the first word of its command line.
		cfg := guest.MultibootConfig{MemBytes: mem, Cmdline: d.Cmdline, Argv0: d.Name, Modules: mods, VCPUs: d.VCPUs}
		if _, err := guest.NewMultibootPlan(img, cfg); err != nil {
			return err
		}
	case *guest.Image:
		if _, err := guest.NewPlan(img, mem, d.Cmdline, nil); err != nil {
			return err
		}
		b.images[d.Name] = img
	}
	return nil
}

// Image returns the parsed image of the PVH domain called name. Domains
// that share an image file share the *guest.Image; it is read-only.
func (b *Bundle) Image(name string) (*guest.Image, error) {
	img, ok := b.images[name]
	if !ok {
		return nil, fmt.Errorf("bundle: no PVH domain %q", name)
	}
	return img, nil
}

// Kernel returns the parsed kernel of the Linux domain called name, shared
// and read-only like Image's.
func (b *Bundle) Kernel(name string) (*guest.LinuxImage, error) {
	img, ok := b.kernels[name]
	if !ok {
		return nil, fmt.Errorf("bundle: no Linux domain %q", name)
	}
	return img, nil
}
