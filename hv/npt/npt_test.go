package npt

import (
	"errors"
	"fmt"
	"testing"

	"grove/x86/paging"
)

// arena is host memory standing in for physical table pages.
type arena struct {
	pages map[uint64]*[512]uint64
	next  uint64
	limit int
	freed int
}

func newArena(limit int) *arena {
	return &arena{pages: map[uint64]*[512]uint64{}, next: 0x100000, limit: limit}
}

func (a *arena) AllocTable() (uint64, error) {
	if len(a.pages) >= a.limit {
		return 0, errors.New("arena full")
	}
	pa := a.next
	a.next += pageSize
	a.pages[pa] = new([512]uint64)
	return pa, nil
}
func (a *arena) Table(pa uint64) *[512]uint64 { return a.pages[pa] }
func (a *arena) FreeTable(pa uint64)          { delete(a.pages, pa); a.freed++ }

func TestMapTranslate(t *testing.T) {
	a := newArena(64)
	tab, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 8; i++ {
		if err := tab.Map2M(i*hugeSize, 0x40000000+i*hugeSize); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.Map4K(0x7fff000, 0x123000); err != nil {
		t.Fatalf("4K map beside the 2M pages: %v", err)
	}
	for _, tc := range []struct{ gpa, want uint64 }{
		{0, 0x40000000}, {0x1234, 0x40001234}, {3*hugeSize + 5, 0x40000000 + 3*hugeSize + 5},
	} {
		t.Run(fmt.Sprintf("gpa=%#x", tc.gpa), func(t *testing.T) {
			got, ok := tab.Translate(tc.gpa)
			if !ok || got != tc.want {
				t.Fatalf("Translate = %#x, %v; want %#x", got, ok, tc.want)
			}
		})
	}
	if _, ok := tab.Translate(8 * hugeSize); ok {
		t.Fatal("unmapped address translated")
	}
	for _, e := range a.pages[tab.Root] {
		if e != 0 && e&all != all {
			t.Fatalf("PML4 entry %#x lacks P/RW/U", e)
		}
	}
	tab.Free()
	if len(a.pages) != 0 || tab.Pages() != 0 {
		t.Fatalf("Free left %d of the table's pages (%d counted)", len(a.pages), tab.Pages())
	}
}

func TestErrors(t *testing.T) {
	a := newArena(3)
	tab, _ := New(a)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"misaligned-2M", tab.Map2M(0x1000, 0), ErrAlign},
		{"misaligned-4K", tab.Map4K(0x10, 0), ErrAlign},
		{"too-high", tab.Map2M(1<<39, 0), ErrTooHigh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Fatalf("got %v, want %v", tc.err, tc.want)
			}
		})
	}
	if err := tab.Map2M(0, 0); err != nil {
		t.Fatal(err)
	}
	if err := tab.Map2M(0, hugeSize); !errors.Is(err, ErrMapped) {
		t.Fatalf("double map: %v", err)
	}
	if err := tab.Map4K(0x1000, 0x1000); !errors.Is(err, ErrMapped) {
		t.Fatalf("4K inside a 2M page: %v", err)
	}
	// Table pages run out: an error, not a panic.
	if err := tab.Map2M(100<<30, 0); err == nil {
		t.Fatal("mapping succeeded with no table pages left")
	}
	n := tab.Pages()
	tab.Free()
	if a.freed != n || len(a.pages) != 0 {
		t.Fatalf("Free gave back %d of %d pages", a.freed, n)
	}
}

func TestMap4K(t *testing.T) {
	a := newArena(16)
	tab, _ := New(a)
	if err := tab.Map4K(0x5000, 0x9000); err != nil {
		t.Fatal(err)
	}
	if got, ok := tab.Translate(0x5abc); !ok || got != 0x9abc {
		t.Fatalf("Translate = %#x, %v", got, ok)
	}
	if err := tab.Map2M(0, 0); !errors.Is(err, ErrMapped) {
		t.Fatalf("2M over a 4K table: %v", err)
	}
}

// Read-only mappings: present and user like the others, without RW, so
// the guest's writes fault; the usual alignment and overlap rules hold.
func TestMapReadOnly(t *testing.T) {
	tab, err := New(newArena(64))
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.MapRO2M(0xc0000000, 0x200000); err != nil {
		t.Fatal(err)
	}
	if err := tab.MapRO4K(0xfed00000, 0x200000); err != nil {
		t.Fatal(err)
	}
	if err := tab.Map2M(0, 0x400000); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		gpa, hpa uint64
		rw       bool
	}{{0xc0001234, 0x201234, false}, {0xfed00010, 0x200010, false}, {0x10, 0x400010, true}} {
		e, _, ok := tab.pt.Lookup(tc.gpa)
		if hpa, _ := tab.Translate(tc.gpa); !ok || hpa != tc.hpa || e&all&^paging.RW != all&^paging.RW || (e&paging.RW != 0) != tc.rw {
			t.Errorf("gpa %#x: entry %#x, hpa %#x; want hpa %#x, writable %v", tc.gpa, e, hpa, tc.hpa, tc.rw)
		}
	}
	if err := tab.MapRO2M(0xc0000000, 0x200000); !errors.Is(err, ErrMapped) {
		t.Errorf("mapped twice: %v", err)
	}
	if err := tab.MapRO2M(0xfec00000, 0x200000); !errors.Is(err, ErrMapped) {
		t.Errorf("2M over a 4K page's table: %v", err)
	}
	if err := tab.MapRO4K(0xc0003000, 0x200000); !errors.Is(err, ErrMapped) {
		t.Errorf("4K inside a 2M page: %v", err)
	}
	if err := tab.MapRO2M(0xc0001000, 0x200000); !errors.Is(err, ErrAlign) {
		t.Errorf("unaligned: %v", err)
	}
}
