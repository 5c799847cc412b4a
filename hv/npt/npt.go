// Package npt builds AMD nested page tables (APM vol. 2, 15.25): the
// guest-physical to host-physical map of one domain. Tables are 4-level
// long-mode tables whose every entry carries U=1 (nested walks are user
// accesses). Memory comes from an injected Mem, so the logic runs on the
// host in tests; the hypervisor gives it kernel pages through the identity
// map.
package npt

import "errors"

const (
	pageSize = 4096
	hugeSize = 2 << 20

	flagP  = 1 << 0
	flagRW = 1 << 1
	flagUS = 1 << 2
	flagPS = 1 << 7
	flagNX = 1 << 63

	addrMask = 0x000ffffffffff000
	// all is what every table and leaf entry carries.
	all = flagP | flagRW | flagUS
)

// Mem supplies zeroed table pages and reaches them by physical address.
type Mem interface {
	AllocTable() (uintptr, error)
	Table(pa uintptr) *[512]uint64
	FreeTable(pa uintptr)
}

// Errors.
var (
	ErrAlign   = errors.New("npt: address not aligned")
	ErrMapped  = errors.New("npt: guest address already mapped")
	ErrTooHigh = errors.New("npt: guest address beyond 512 GiB")
)

// Table is one domain's nested page table.
type Table struct {
	Root   uintptr
	mem    Mem
	tables []uintptr // every table page, for Free
}

// New allocates an empty table.
func New(mem Mem) (*Table, error) {
	root, err := mem.AllocTable()
	if err != nil {
		return nil, err
	}
	return &Table{Root: root, mem: mem, tables: []uintptr{root}}, nil
}

func index(gpa uint64, level int) int { return int(gpa>>(12+9*uint(level))) & 511 }

// walk returns the table at `stop` level for gpa, creating missing ones.
func (t *Table) walk(gpa uint64, stop int) (*[512]uint64, error) {
	tab := t.mem.Table(t.Root)
	for level := 3; level > stop; level-- {
		e := &tab[index(gpa, level)]
		if *e&flagP == 0 {
			pa, err := t.mem.AllocTable()
			if err != nil {
				return nil, err
			}
			t.tables = append(t.tables, pa)
			*e = uint64(pa) | all
		} else if *e&flagPS != 0 {
			return nil, ErrMapped
		}
		tab = t.mem.Table(uintptr(*e & addrMask))
	}
	return tab, nil
}

// Map2M maps the 2 MiB guest page at gpa to host memory at hpa.
func (t *Table) Map2M(gpa, hpa uint64) error {
	if gpa%hugeSize != 0 || hpa%hugeSize != 0 {
		return ErrAlign
	}
	if gpa >= 1<<39 {
		return ErrTooHigh
	}
	pd, err := t.walk(gpa, 1)
	if err != nil {
		return err
	}
	e := &pd[index(gpa, 1)]
	if *e&flagP != 0 {
		return ErrMapped
	}
	*e = hpa | all | flagPS
	return nil
}

// Map4K maps the 4 KiB guest page at gpa to hpa.
func (t *Table) Map4K(gpa, hpa uint64) error {
	if gpa%pageSize != 0 || hpa%pageSize != 0 {
		return ErrAlign
	}
	if gpa >= 1<<39 {
		return ErrTooHigh
	}
	pt, err := t.walk(gpa, 0)
	if err != nil {
		return err
	}
	e := &pt[index(gpa, 0)]
	if *e&flagP != 0 {
		return ErrMapped
	}
	*e = hpa | all
	return nil
}

// Translate returns the host address for gpa, or ok=false if unmapped.
func (t *Table) Translate(gpa uint64) (hpa uint64, ok bool) {
	tab := t.mem.Table(t.Root)
	for level := 3; level >= 0; level-- {
		e := tab[index(gpa, level)]
		if e&flagP == 0 {
			return 0, false
		}
		if level == 0 || e&flagPS != 0 {
			span := uint64(1) << (12 + 9*uint(level))
			return e&addrMask&^(span-1) | gpa&(span-1), true
		}
		tab = t.mem.Table(uintptr(e & addrMask))
	}
	return 0, false
}

// Pages is how many table pages the table uses.
func (t *Table) Pages() int { return len(t.tables) }

// Free gives every table page back. The table is unusable afterwards.
func (t *Table) Free() {
	for _, pa := range t.tables {
		t.mem.FreeTable(pa)
	}
	t.tables, t.Root = nil, 0
}
