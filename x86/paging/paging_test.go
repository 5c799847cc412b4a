package paging

import (
	"errors"
	"fmt"
	"maps"
	"testing"
)

// ram is fake physical memory: page i is words[i*512:(i+1)*512], at
// physical address i*PageSize. AllocTable hands pages out from next on.
type ram struct {
	words  []uint64
	next   uint64
	limit  uint64 // AllocTable fails at this address (0: end of ram)
	freed  map[uint64]bool
	tables int // Table calls
}

func newRAM(pages int) *ram {
	return &ram{words: make([]uint64, pages*512), next: PageSize, freed: map[uint64]bool{}}
}

func (r *ram) Table(pa uint64) *[512]uint64 {
	r.tables++
	if pa%PageSize != 0 || pa/8 >= uint64(len(r.words)) {
		return nil
	}
	return (*[512]uint64)(r.words[pa/8:])
}

func (r *ram) AllocTable() (uint64, error) {
	if r.next/8 >= uint64(len(r.words)) || (r.limit != 0 && r.next >= r.limit) {
		return 0, errors.New("ram full")
	}
	pa := r.next
	r.next += PageSize
	clear(r.Table(pa)[:])
	return pa, nil
}

func (r *ram) FreeTable(pa uint64) {
	if r.freed[pa] || pa >= r.next {
		panic(fmt.Sprintf("FreeTable(%#x): not an allocated table", pa))
	}
	r.freed[pa] = true
}

func newTables(t testing.TB, pages int) (*Tables[*ram], *ram) {
	r := newRAM(pages)
	tt, err := New(r)
	if err != nil {
		t.Fatal(err)
	}
	return &tt, r
}

// mapPage maps the 4 KiB page at va to pa the way the kernel does.
func mapPage(t testing.TB, tt *Tables[*ram], va, pa uint64) {
	e, err := tt.Entry(va, 0, P|RW|US)
	if err != nil {
		t.Fatalf("Entry(%#x): %v", va, err)
	}
	*e = pa | P | RW
}

const upper = 0xffff_8000_0000_0000

func TestEntryLookup(t *testing.T) {
	for _, va := range []uint64{0, 0x1000, 0x20_0000, 0x7fff_ffff_f000, upper, 0xffff_ffff_ffff_f000} {
		t.Run(fmt.Sprintf("va=%#x", va), func(t *testing.T) {
			tt, _ := newTables(t, 16)
			mapPage(t, tt, va, 0x5000)
			if tt.Pages != 4 {
				t.Fatalf("%d table pages after one map, want 4", tt.Pages)
			}
			e, level, ok := tt.Lookup(va + 0x123)
			if !ok || level != 0 || LongMode.Addr(e, level, va+0x123) != 0x5123 {
				t.Fatalf("Lookup = %#x level %d ok %v", e, level, ok)
			}
			if _, _, ok := tt.Lookup(va ^ PageSize); ok {
				t.Fatal("neighbour page present")
			}
			if e, err := tt.Entry(va^PageSize, 0, 0); e == nil || *e != 0 || err != nil {
				t.Fatalf("Entry without flags = %v, %v; want the empty slot", e, err)
			}
			if e, err := tt.Entry(va^1<<30, 0, 0); e != nil || err != nil {
				t.Fatalf("Entry without flags through a missing table = %v, %v", e, err)
			}
		})
	}
}

func TestEntryLarge(t *testing.T) {
	for _, level := range []int{1, 2} {
		t.Run(fmt.Sprintf("level=%d", level), func(t *testing.T) {
			tt, _ := newTables(t, 16)
			e, err := tt.Entry(upper, level, P|RW)
			if err != nil {
				t.Fatal(err)
			}
			*e = 0x4000_0000 | P | RW | PS
			span := LongMode.Span(level)
			for _, va := range []uint64{upper, upper + span - 1} {
				if _, err := tt.Entry(va, 0, P|RW); err != ErrLarge {
					t.Fatalf("Entry(%#x) in a large page: %v", va, err)
				}
				got, l, ok := tt.Lookup(va)
				if !ok || l != level || LongMode.Addr(got, l, va) != 0x4000_0000+va-upper {
					t.Fatalf("Lookup(%#x) = %#x level %d", va, got, l)
				}
			}
		})
	}
}

func TestEntryAllocFailure(t *testing.T) {
	for tables := 1; tables <= 4; tables++ {
		t.Run(fmt.Sprintf("tables=%d", tables), func(t *testing.T) {
			tt, r := newTables(t, 16)
			r.limit = uint64(1+tables) * PageSize
			_, err := tt.Entry(0x1000, 0, P|RW)
			if (err != nil) != (tables < 4) || tt.Pages != int(r.next/PageSize-1) {
				t.Fatalf("Entry with %d table pages: %v, %d pages counted", tables, err, tt.Pages)
			}
		})
	}
}

// collect is a Visitor that records and clears what it visits.
type collect struct{ got map[uint64]int }

func (c collect) Visit(va uint64, e *uint64, level int) { c.got[va] = level; *e = 0 }

func TestVisit(t *testing.T) {
	pages := []uint64{0, 0x1000, 0x1f_f000, 0x20_0000, 0x80_0000_0000, upper, 0xffff_ffff_ffff_f000}
	const big = 0x4000_0000 // a 1 GiB page
	for _, tc := range []struct{ start, end uint64 }{
		{0, 0x1000}, {0x800, 0x1001}, {0x1f_f000, 0x20_1000}, {0, 1 << 47},
		{big + 0x1000, big + 0x2000}, {0x80_0000_0000, upper + 1}, {upper, ^uint64(0)}, {0, ^uint64(0)},
	} {
		t.Run(fmt.Sprintf("%#x-%#x", tc.start, tc.end), func(t *testing.T) {
			tt, _ := newTables(t, 32)
			want := map[uint64]int{}
			for _, va := range pages {
				mapPage(t, tt, va, 0x7000)
				if va < tc.end && va+PageSize-1 >= tc.start {
					want[va] = 0
				}
			}
			e, _ := tt.Entry(big, 2, P|RW)
			*e = big | P | PS
			if big < tc.end && big+1<<30 > tc.start {
				want[big] = 2
			}
			c := collect{map[uint64]int{}}
			Visit(tt, tc.start, tc.end, c)
			if !maps.Equal(c.got, want) {
				t.Fatalf("visited %v, want %v", c.got, want)
			}
			for va := range want {
				if _, _, ok := tt.Lookup(va); ok {
					t.Fatalf("%#x still mapped after the visitor cleared it", va)
				}
			}
		})
	}
}

func TestFree(t *testing.T) {
	tt, r := newTables(t, 32)
	for _, va := range []uint64{0, 0x20_0000, 1 << 39, upper} {
		mapPage(t, tt, va, 0x7000)
	}
	e, _ := tt.Entry(0x4000_0000, 1, P|RW)
	*e = 0x4000_0000 | P | PS // a large leaf: not a table, never freed
	made := int(r.next/PageSize - 1)
	if tt.Pages != made {
		t.Fatalf("Pages = %d, %d allocated", tt.Pages, made)
	}
	tt.Free()
	if len(r.freed) != made || tt.Pages != 0 || tt.Root != 0 {
		t.Fatalf("Free gave back %d of %d pages (Pages %d)", len(r.freed), made, tt.Pages)
	}
}

// The walker runs in kernel context: no path may allocate.
type nop struct{}

func (nop) Visit(uint64, *uint64, int) {}

func TestNoAllocs(t *testing.T) {
	tt, r := newTables(t, 64)
	mapPage(t, tt, upper, 0x7000)
	regs := Regs{CR0: 1 << 31, CR3: tt.Root, EFER: 1 << 10}
	for name, f := range map[string]func(){
		"Entry":     func() { mapPage(t, tt, upper+0x1000, 0x8000) },
		"Lookup":    func() { tt.Lookup(upper) },
		"Visit":     func() { Visit(tt, 0, ^uint64(0), nop{}) },
		"Translate": func() { Translate(regs, r, upper+5) },
		"New+Free": func() {
			n, _ := New(r)
			n.Free()
			r.next -= PageSize
			delete(r.freed, r.next)
		},
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
}
