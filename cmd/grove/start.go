package main

import (
	"fmt"
	"io"

	"grove/hv"
)

// Boot-time domains are created first, all of them, and only then run,
// the control domain last. The control domain acts on the others (pauses,
// destroys) as soon as it runs: started first, it raced the loader still
// creating and unpausing later domains, and a domain it destroyed before
// the loader's unpause made that unpause fail with EINVAL, reported as if
// the config were wrong. Created in one pass and run in the next, with dom0
// last, every boot domain exists and runs before dom0 can touch it, and an
// unpause that fails still says it was the start that failed, and why.

// bootDomain is one domain to start at boot; from names where it comes
// from in messages (grove.toml, boot module, guest=ctl). CreateDomain's
// errors name the domain, so from does not.
type bootDomain struct {
	cfg  hv.Config
	from string
}

// created is a domain made but not yet run (an *hv.Domain).
type created interface {
	Unpause() error
}

// creator makes a domain and returns its id and the domain, paused, as
// hv.Hypervisor.CreateDomain does.
type creator func(hv.Config) (hv.DomID, created, error)

// startAll creates every domain of specs, in order, then unpauses them:
// the unprivileged ones in order, then the privileged ones. Progress goes
// to out, failures to errs; a domain that fails is skipped, the rest go
// on.
func startAll(specs []bootDomain, create creator, out, errs io.Writer) {
	type made struct {
		spec bootDomain
		d    created
	}
	var ready []made
	for _, s := range specs {
		id, d, err := create(s.cfg)
		if err != nil {
			fmt.Fprintf(errs, "grove: %s: %v\n", s.from, err)
			continue
		}
		fmt.Fprintf(out, "grove: created d%d (%s)\n", id, s.cfg.Name)
		ready = append(ready, made{s, d})
	}
	for _, privileged := range []bool{false, true} {
		for _, m := range ready {
			if m.spec.cfg.Privileged != privileged {
				continue
			}
			if err := m.d.Unpause(); err != nil {
				fmt.Fprintf(errs, "grove: %s: domain %q: created, but it cannot start: %v\n", m.spec.from, m.spec.cfg.Name, err)
			}
		}
	}
}

// hvCreator is h's CreateDomain as a creator.
func hvCreator(h *hv.Hypervisor) creator {
	return func(cfg hv.Config) (hv.DomID, created, error) {
		d, err := h.CreateDomain(cfg)
		if err != nil {
			return 0, nil, err
		}
		return d.ID, d, nil
	}
}
