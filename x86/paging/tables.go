package paging

// Tables Grove builds itself (the kernel's address space, nested page
// tables) are long-mode tables whose pages come from an Alloc.

// Alloc is a Mem that also makes zeroed table pages and takes them back.
type Alloc interface {
	Mem
	AllocTable() (uint64, error)
	FreeTable(pa uint64)
}

// Error is a walker error. The values below are statically initialised
// data, so returning one neither allocates nor waits for package
// initialisation (the kernel maps pages before the Go runtime runs).
type Error string

func (e Error) Error() string { return string(e) }

// Walker errors.
var (
	ErrLarge   error = Error("paging: address lies in a large page")
	ErrNoTable error = Error("paging: table page outside memory")
)

// Tables is one 4-level long-mode table tree.
type Tables[M Alloc] struct {
	Root  uint64 // the PML4 page (CR3, or nCR3 for a nested table)
	Mem   M
	Pages int // table pages allocated and not freed, root included
}

// New allocates an empty tree. Kernel context.
func New[M Alloc](m M) (Tables[M], error) {
	root, err := m.AllocTable()
	if err != nil {
		return Tables[M]{}, err
	}
	return Tables[M]{Root: root, Mem: m, Pages: 1}, nil
}

// Entry returns va's entry at level (0: the 4 KiB page's). Missing tables on
// the way are allocated and entered with flags; with flags 0 none is, and
// Entry returns nil, nil instead. A large page covering va above level is
// ErrLarge; a table the Mem cannot reach is ErrNoTable. Kernel context.
func (t *Tables[M]) Entry(va uint64, level int, flags uint64) (*uint64, error) {
	table, l := t.Root, LongMode.Levels-1
	for {
		tab, at, got := descend(LongMode, t.Mem, table, l, va, level)
		if tab == nil {
			return nil, ErrNoTable
		}
		e := &tab[at%PageSize/8]
		switch {
		case got == level:
			return e, nil
		case *e&P != 0:
			return nil, ErrLarge
		case flags == 0:
			return nil, nil
		}
		pa, err := t.Mem.AllocTable()
		if err != nil {
			return nil, err
		}
		t.Pages++
		*e = pa | flags
		table, l = pa, got-1
	}
}

// Lookup returns the entry mapping va and its level; see Lookup. Kernel
// context.
func (t *Tables[M]) Lookup(va uint64) (e uint64, level int, ok bool) {
	return Lookup(LongMode, t.Mem, t.Root, va)
}

// Visitor is called by Visit for each present leaf entry. It may change or
// clear *e (and must invalidate the TLB itself if the tables are live).
type Visitor interface {
	Visit(va uint64, e *uint64, level int)
}

// Visit calls v for every present leaf entry mapping a page that overlaps
// [start, end), in address order, va being the page's first address. Tables
// that are missing are skipped whole, so a huge sparse range costs only the
// tables that exist. Upper-half addresses are canonical (bits 63:48 set).
// Kernel context.
func Visit[M Alloc, V Visitor](t *Tables[M], start, end uint64, v V) {
	visit(t.Mem, t.Root, LongMode.Levels-1, 0, start, end, v)
}

func visit[M Mem, V Visitor](m M, table uint64, level int, base, start, end uint64, v V) {
	tab := m.Table(table)
	if tab == nil {
		return
	}
	span := LongMode.Span(level)
	for i := LongMode.Index(start, level); i < 512; i++ {
		lo := base + i*span
		if level == LongMode.Levels-1 && i >= 256 {
			lo |= 0xffff_0000_0000_0000 // sign-extend into the upper half
		}
		if lo >= end {
			return
		}
		e := &tab[i]
		switch {
		case *e&P == 0:
		case LongMode.leaf(*e, level):
			v.Visit(lo, e, level)
		default:
			visit(m, *e&AddrMask, level-1, lo, max(start, lo), end, v)
		}
	}
}

// Free gives back every table page of the tree, root included; the pages
// that leaf entries map are the caller's. The tree is empty afterwards.
// Kernel context.
func (t *Tables[M]) Free() {
	if t.Root != 0 {
		t.free(t.Root, LongMode.Levels-1)
	}
	t.Root = 0
}

func (t *Tables[M]) free(table uint64, level int) {
	if tab := t.Mem.Table(table); tab != nil && level > 0 {
		for _, e := range tab {
			if e&P != 0 && !LongMode.leaf(e, level) {
				t.free(e&AddrMask, level-1)
			}
		}
	}
	t.Mem.FreeTable(table)
	t.Pages--
}
