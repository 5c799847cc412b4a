package hv

import (
	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
	"grove/rcu"
)

// Scheduling-group control: the group ops that change who is co-scheduled
// check that a gang fits the CPUs (E2BIG), change domgrp, and refresh the
// scheduler's view of its groups (gang.go).

// joinGroup moves dom into gid (NullGroup: leave).
func (h *Hypervisor) joinGroup(dom domgrp.DomID, gid domgrp.GroupID) error {
	if err := h.fits(gid, dom, true); err != nil {
		return err
	}
	if err := h.groups.Join(dom, gid); err != nil {
		return err
	}
	h.regroup()
	return nil
}

// setGang sets dom's opt-in to its group's policy.
func (h *Hypervisor) setGang(dom domgrp.DomID, on bool) error {
	if on {
		if err := h.fits(domgrp.NullGroup, dom, false); err != nil {
			return err
		}
	}
	if err := h.groups.SetGang(dom, on); err != nil {
		return err
	}
	h.regroup()
	return nil
}

// setGroupPolicy sets gid's policy (domgrp checks the arguments).
func (h *Hypervisor) setGroupPolicy(gid domgrp.GroupID, p domgrp.Policy, skewNS uint64) error {
	if p == domgrp.PolicyGang {
		if err := h.fitsAs(gid, p, 0, false); err != nil {
			return err
		}
	}
	if err := h.groups.SetPolicy(gid, p, skewNS); err != nil {
		return err
	}
	h.regroup()
	return nil
}

// groupStats reads (and with reset zeroes) gid's counters.
func (h *Hypervisor) groupStats(r *rcu.Reader, gid domgrp.GroupID, reset bool) (abi.GroupStats, error) {
	in, err := h.groups.GetInfo(r, gid)
	if err != nil {
		return abi.GroupStats{}, err
	}
	return h.sched.stats(gid, in.Policy, reset), nil
}

var _ = errno.E2BIG
