package main

import (
	"errors"
	"fmt"
	"slices"

	"grove/ctl/proto"
)

// orderedPause pauses (or unpauses) a config group's members one domain at
// a time, in the config's PauseOrder (or its reverse), printing each step.
// Live members the config does not name follow in join order; dom0 is
// skipped, as the hypervisor's group pause skips it.
//
// A failed pause unpauses the members this call paused, in reverse, so the
// group is left as it was (the hypervisor's group pause is all or nothing
// too). A failed unpause stops there: unpausing the rest would run a
// domain before the one it must follow.
func (a *app) orderedPause(g group, pause bool) error {
	steps, err := a.pauseSteps(g)
	if err != nil {
		return err
	}
	op, verb := proto.OpPause, "paused"
	if !pause {
		slices.Reverse(steps)
		op, verb = proto.OpUnpause, "unpaused"
	}
	for i, d := range steps {
		if err := a.call(op, proto.DomainArgs{Domain: d.id}, nil); err != nil {
			err = fmt.Errorf("%s: %s: %w", g, d, err)
			if pause {
				err = errors.Join(err, a.rollback(g, steps[:i]))
			}
			return err
		}
		fmt.Fprintf(a.stdout, "%s: %s %s\n", g, verb, d)
	}
	return nil
}

// rollback unpauses done in reverse after a failed ordered pause.
func (a *app) rollback(g group, done []domain) error {
	var errs []error
	for _, d := range slices.Backward(done) {
		if err := a.call(proto.OpUnpause, proto.DomainArgs{Domain: d.id}, nil); err != nil {
			errs = append(errs, fmt.Errorf("%s: undoing the pause of %s: %w", g, d, err))
			continue
		}
		fmt.Fprintf(a.stdout, "%s: unpaused %s (undo)\n", g, d)
	}
	return errors.Join(errs...)
}

// pauseSteps lists the group's live members in pause order. A config
// member that is not in the group now is reported and left alone: pausing
// a domain outside the group is not what "pause the group" means.
func (a *app) pauseSteps(g group) ([]domain, error) {
	info, err := a.groupInfo(g)
	if err != nil {
		return nil, err
	}
	doms, err := a.listDomains()
	if err != nil {
		return nil, err
	}
	byName := map[string]int{}
	for _, d := range doms {
		byName[d.Name] = d.ID
	}
	var steps []domain
	for _, name := range a.cfg.PauseOrder(g.cfg.Name) {
		id, ok := byName[name]
		if !ok || !slices.Contains(info.Members, id) {
			fmt.Fprintf(a.stderr, "grovectl: %s: %s is not a member now, skipped\n", g, name)
			continue
		}
		steps = append(steps, domain{id: id, name: name})
	}
	for _, id := range info.Members {
		if !slices.ContainsFunc(steps, func(d domain) bool { return d.id == id }) {
			steps = append(steps, a.byID(id))
		}
	}
	return slices.DeleteFunc(steps, func(d domain) bool { return d.id == 0 }), nil
}
