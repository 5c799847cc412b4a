package proto

import (
	"fmt"

	"grove/errno"
)

// MaxOrder is the longest pause order the hypervisor takes (hv/abi's
// GroupOrderMax).
const MaxOrder = 4096

// Check refuses, with EINVAL, what cannot be handed to the hypervisor: a
// negative group, an order longer than MaxOrder or holding an id outside
// 0..65535. Whether the order names members, each once, is the
// hypervisor's check.
func (p PauseArgs) Check() error {
	if p.Group < 0 || p.Group > 0xffff {
		return fmt.Errorf("group id out of range: %w", errno.EINVAL)
	}
	if len(p.Order) > MaxOrder {
		return fmt.Errorf("order of %d domains, at most %d: %w", len(p.Order), MaxOrder, errno.EINVAL)
	}
	for _, id := range p.Order {
		if id < 0 || id > 0xffff {
			return fmt.Errorf("order: domain %d out of range: %w", id, errno.EINVAL)
		}
	}
	return nil
}

// OrderIDs is a checked order as the hypervisor's u16 domain ids.
func (p PauseArgs) OrderIDs() []uint16 {
	ids := make([]uint16, len(p.Order))
	for i, id := range p.Order {
		ids[i] = uint16(id)
	}
	return ids
}

// NullGroupName is the null group's name (domgrp.NullName).
const NullGroupName = "null"

// ValidGroupName reports whether a group may be created with name s, as
// the hypervisor checks it (domgrp.ValidName): 1 to 32 of a-z, 0-9, '-'
// and '_', and not the null group's name.
func ValidGroupName(s string) bool {
	if len(s) == 0 || len(s) > 32 || s == NullGroupName {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
