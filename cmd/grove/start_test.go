package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"grove/errno"
	"grove/hv"
)

// fakeDom records its start in the shared log.
type fakeDom struct {
	name string
	log  *[]string
	err  error
}

func (f *fakeDom) Unpause() error {
	*f.log = append(*f.log, "run "+f.name)
	return f.err
}

// Every domain is created before any runs, and the control domain runs
// last, wherever the config lists it: it can then never act on a domain
// the loader has not made or started yet.
func TestStartAllCreatesFirstAndRunsDom0Last(t *testing.T) {
	for _, tc := range []struct {
		name  string
		specs []string // "*" marks the privileged one
		want  []string
	}{
		{"dom0-first", []string{"*dom0", "web1", "web2"},
			[]string{"create dom0", "create web1", "create web2", "run web1", "run web2", "run dom0"}},
		{"dom0-last", []string{"web1", "*dom0"}, []string{"create web1", "create dom0", "run web1", "run dom0"}},
		{"no-dom0", []string{"a", "b"}, []string{"create a", "create b", "run a", "run b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			var specs []bootDomain
			for _, s := range tc.specs {
				name, priv := strings.CutPrefix(s, "*")
				specs = append(specs, bootDomain{hv.Config{Name: name, Privileged: priv}, "grove.toml"})
			}
			create := func(cfg hv.Config) (hv.DomID, created, error) {
				log = append(log, "create "+cfg.Name)
				return hv.DomID(len(log)), &fakeDom{name: cfg.Name, log: &log}, nil
			}
			var out, errs strings.Builder
			startAll(specs, create, &out, &errs)
			if !slices.Equal(log, tc.want) || errs.Len() != 0 {
				t.Fatalf("calls %q, errors %q; want %q", log, errs.String(), tc.want)
			}
		})
	}
}

// A domain that cannot be made is reported with its cause and the others
// start; one made that cannot start says so, not that the config is wrong.
func TestStartAllReportsTheCause(t *testing.T) {
	var log []string
	specs := []bootDomain{
		{hv.Config{Name: "dom0", Privileged: true}, "grove.toml"},
		{hv.Config{Name: "big"}, "grove.toml"},
		{hv.Config{Name: "hb2"}, "grove.toml"},
	}
	create := func(cfg hv.Config) (hv.DomID, created, error) {
		if cfg.Name == "big" {
			return 0, nil, fmt.Errorf("domain %q: guest RAM: %w", cfg.Name, errno.ENOMEM)
		}
		d := &fakeDom{name: cfg.Name, log: &log}
		if cfg.Name == "hb2" {
			d.err = errno.EINVAL
		}
		return 1, d, nil
	}
	var out, errs strings.Builder
	startAll(specs, create, &out, &errs)
	want := `grove: grove.toml: domain "big": guest RAM: out of memory (ENOMEM)` + "\n" +
		`grove: grove.toml: domain "hb2": created, but it cannot start: invalid argument (EINVAL)` + "\n"
	if errs.String() != want {
		t.Fatalf("errors:\n%s\nwant:\n%s", errs.String(), want)
	}
	if !slices.Equal(log, []string{"run hb2", "run dom0"}) {
		t.Fatalf("runs %q", log)
	}
}
