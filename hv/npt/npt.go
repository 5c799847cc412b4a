// Package npt builds AMD nested page tables (APM vol. 2, 15.25): the
// guest-physical to host-physical map of one domain. Tables are 4-level
// long-mode tables walked by x86/paging, whose every entry carries U=1
// (nested walks are user accesses). Memory comes from an injected Mem, so
// the logic runs on the host in tests; the hypervisor gives it kernel pages
// through the identity map.
package npt

import (
	"errors"

	"grove/x86/paging"
)

const (
	pageSize = paging.PageSize
	hugeSize = 2 << 20

	// all is what every table and leaf entry carries.
	all = paging.P | paging.RW | paging.US
)

// Mem supplies zeroed table pages and reaches them by physical address.
type Mem = paging.Alloc

// Errors.
var (
	ErrAlign   = errors.New("npt: address not aligned")
	ErrMapped  = errors.New("npt: guest address already mapped")
	ErrTooHigh = errors.New("npt: guest address beyond 512 GiB")
)

// Table is one domain's nested page table.
type Table struct {
	Root uint64 // the PML4 page, for the VMCB's N_CR3
	pt   paging.Tables[Mem]
}

// New allocates an empty table.
func New(mem Mem) (*Table, error) {
	pt, err := paging.New(mem)
	if err != nil {
		return nil, err
	}
	return &Table{Root: pt.Root, pt: pt}, nil
}

// Map2M maps the 2 MiB guest page at gpa to host memory at hpa.
func (t *Table) Map2M(gpa, hpa uint64) error {
	if gpa%hugeSize != 0 || hpa%hugeSize != 0 {
		return ErrAlign
	}
	return t.mapAt(gpa, 1, hpa|all|paging.PS)
}

// Map4K maps the 4 KiB guest page at gpa to hpa.
func (t *Table) Map4K(gpa, hpa uint64) error {
	if gpa%pageSize != 0 || hpa%pageSize != 0 {
		return ErrAlign
	}
	return t.mapAt(gpa, 0, hpa|all)
}

// MapRO2M maps the 2 MiB guest page at gpa to host memory at hpa, read
// only: a write faults.
func (t *Table) MapRO2M(gpa, hpa uint64) error {
	if gpa%hugeSize != 0 || hpa%hugeSize != 0 {
		return ErrAlign
	}
	return t.mapAt(gpa, 1, hpa|all&^paging.RW|paging.PS)
}

// MapRO4K maps the 4 KiB guest page at gpa to hpa, read only.
func (t *Table) MapRO4K(gpa, hpa uint64) error {
	if gpa%pageSize != 0 || hpa%pageSize != 0 {
		return ErrAlign
	}
	return t.mapAt(gpa, 0, hpa|all&^paging.RW)
}

// mapAt sets gpa's empty entry at level to entry.
func (t *Table) mapAt(gpa uint64, level int, entry uint64) error {
	if gpa >= 1<<39 {
		return ErrTooHigh
	}
	e, err := t.pt.Entry(gpa, level, all)
	if err == paging.ErrLarge || (err == nil && *e&paging.P != 0) {
		return ErrMapped
	}
	if err != nil {
		return err
	}
	*e = entry
	return nil
}

// Translate returns the host address for gpa, or ok=false if unmapped.
func (t *Table) Translate(gpa uint64) (hpa uint64, ok bool) {
	e, level, ok := t.pt.Lookup(gpa)
	if !ok {
		return 0, false
	}
	return paging.LongMode.Addr(e, level, gpa), true
}

// Pages is how many table pages the table uses.
func (t *Table) Pages() int { return t.pt.Pages }

// Free gives every table page back. The table is unusable afterwards.
func (t *Table) Free() {
	t.pt.Free()
	t.Root = 0
}
