package domgrp_test

import (
	"fmt"

	"grove/domgrp"
)

// checkInvariants returns the first broken invariant of s, or nil: the null
// group exists, every registered domain is in exactly one group and its
// entry names that group, and members are in join order.
func checkInvariants(s *domgrp.Snapshot) error {
	if s.Group(domgrp.NullGroup) == nil {
		return fmt.Errorf("null group missing")
	}
	seen := make(map[domgrp.DomID]domgrp.GroupID, s.NumDomains())
	for g := range s.Groups() {
		var last uint64
		for i := range g.Len() {
			id := g.Member(i)
			if prev, dup := seen[id]; dup {
				return fmt.Errorf("dom%d in groups %d and %d", id, prev, g.ID())
			}
			seen[id] = g.ID()
			d, ok := s.Domain(id)
			switch {
			case !ok:
				return fmt.Errorf("group %d lists unregistered dom%d", g.ID(), id)
			case d.Group != g.ID():
				return fmt.Errorf("dom%d listed in group %d but records group %d", id, g.ID(), d.Group)
			case d.Seq <= last:
				return fmt.Errorf("group %d: dom%d (seq %d) after seq %d: not in join order", g.ID(), id, d.Seq, last)
			}
			last = d.Seq
		}
	}
	if len(seen) != s.NumDomains() {
		for id := range s.Domains() {
			if _, ok := seen[id]; !ok {
				return fmt.Errorf("dom%d is in no group", id)
			}
		}
	}
	return nil
}
