// Package paging is Grove's one x86 page-table walker: the kernel's own
// address space, each domain's nested page table (hv/npt) and the guest
// page-table walk behind hypercall copy-in/out (hv) all descend tables here.
// It implements AMD64 APM vol. 2, chapter 5 (Page Translation and
// Protection): the entry bits of 5.4, legacy 32-bit and PAE tables (5.2),
// and 4-level long-mode tables (5.3).
//
// Memory is injected: a Mem reaches a table page by physical address and an
// Alloc also makes and frees them, so the walker runs on the host in tests
// and on bare metal with identity-mapped pages. Mem, Alloc and Visitor are
// type parameters, so calls are static and nothing is boxed: every function
// here runs in kernel context and on the boot path before the Go runtime
// starts, and none of them allocates, panics or stores a Go pointer. Callers
// keep that true by passing value types (not pointers to locals) as Mem and
// Visitor.
package paging

import "grove/x86"

// Page-translation-table entry bits (APM vol. 2, 5.4.1). Wide entries (PAE
// and long mode) are 64 bits; legacy entries are their low 32 bits.
const (
	P   = 1 << 0  // present
	RW  = 1 << 1  // read/write
	US  = 1 << 2  // user/supervisor
	PWT = 1 << 3  // page-level writethrough
	PCD = 1 << 4  // page-level cache disable
	A   = 1 << 5  // accessed
	D   = 1 << 6  // dirty (leaf entries)
	PS  = 1 << 7  // page size: this entry maps a large page
	G   = 1 << 8  // global (leaf entries)
	NX  = 1 << 63 // no execute (wide entries, EFER.NXE)

	// AddrMask is the physical-address field of a wide entry, bits 51:12.
	AddrMask = 0x000f_ffff_ffff_f000
	// AddrMask32 is the address field of a legacy entry, bits 31:12.
	AddrMask32 = 0xffff_f000
	// LargeMask32 is bits 31:22 of a legacy 4 MiB page's address (5.2.3);
	// PSE-36 puts PA[39:32] in the entry's bits 20:13 (pse36Shift).
	LargeMask32 = 0xffc0_0000
	pse36Shift  = 13
	pse36Mask   = 0xff

	PageSize = 4096
)

// Format is one paging mode's table layout.
type Format struct {
	Levels int   // tables on a walk; the root is level Levels-1
	Bits   uint  // index bits per level: 9 (8-byte entries), 10 (4-byte)
	Large  uint8 // bit n set: PS in a level-n entry maps a page
}

// The formats the APM defines (5.2, 5.3). Level 1 is the page directory.
var (
	Legacy    = Format{Levels: 2, Bits: 10}                // CR4.PSE=0
	LegacyPSE = Format{Levels: 2, Bits: 10, Large: 1 << 1} // 4 MiB pages
	PAE       = Format{Levels: 3, Bits: 9, Large: 1 << 1}  // 2 MiB pages
	LongMode  = Format{Levels: 4, Bits: 9, Large: 1<<1 | 1<<2}
)

// Wide reports 8-byte entries (PAE, long mode); legacy ones are 4 bytes.
func (f Format) Wide() bool { return f.Bits == 9 }

// Span is how many bytes one level-n entry maps.
func (f Format) Span(level int) uint64 { return 1 << f.shift(level) }

// shift is where va's level-n index starts. (The &63s here spare the
// compiler's oversized-shift checks on the walk.)
func (f Format) shift(level int) uint { return (12 + f.Bits*uint(level)) & 63 }

// Index is va's entry number in its level-n table.
func (f Format) Index(va uint64, level int) uint64 {
	return va >> f.shift(level) & (1<<(f.Bits&63) - 1)
}

// entryAt is the physical address of va's entry in the table at table: a
// table is one page, so an entry is 4096>>Bits bytes.
func (f Format) entryAt(table, va uint64, level int) uint64 {
	return table + f.Index(va, level)<<((12-f.Bits)&63)
}

// load reads the entry at physical address at from its table page (a
// 4-byte entry is one half of a little-endian word).
func (f Format) load(tab *[512]uint64, at uint64) uint64 {
	narrow := (f.Bits - 9) * 32 & 63 // 32 for a 4-byte entry, else 0
	return tab[at%PageSize/8] >> (at & 4 * 8) & (^uint64(0) >> narrow)
}

// leaf reports whether present entry e at level maps a page.
func (f Format) leaf(e uint64, level int) bool {
	return level == 0 || (e&PS != 0 && f.Large&(1<<(level&7)) != 0)
}

// next is the table a present non-leaf entry points to (AddrMask is
// AddrMask32 for a 4-byte entry).
func (f Format) next(e uint64) uint64 { return e & AddrMask }

// Addr is the physical address of va in the page that leaf entry e at
// level maps.
func (f Format) Addr(e uint64, level int, va uint64) uint64 {
	off := va & (f.Span(level) - 1)
	if f.Wide() || level == 0 {
		return e&AddrMask&^(f.Span(level)-1) | off
	}
	return e&LargeMask32 | (e>>pse36Shift&pse36Mask)<<32 | off
}

// Mem reaches table pages. Table returns the page at page-aligned physical
// address pa, or nil if no memory is there (a guest's table outside its RAM).
type Mem interface {
	Table(pa uint64) *[512]uint64
}

// descend walks f's tables from the level-`level` table at table toward
// va's entry at level stop. It returns the page holding the entry it stopped
// at, that entry's physical address and its level: stop, or higher where the
// entry is not present or maps a large page. tab is nil when a table page
// is not in m. Kernel context.
func descend[M Mem](f Format, m M, table uint64, level int, va uint64, stop int) (tab *[512]uint64, at uint64, l int) {
	for ; ; level-- {
		at = f.entryAt(table, va, level)
		if tab = m.Table(at &^ (PageSize - 1)); tab == nil {
			return nil, at, level
		}
		e := f.load(tab, at)
		if level <= stop || e&P == 0 || f.leaf(e, level) {
			return tab, at, level
		}
		table = f.next(e)
	}
}

// Lookup returns the entry that maps va in f's tables under root, and its
// level (0: a 4 KiB page). ok is false if an entry on the way is not present
// or a table is not in m. Kernel context.
func Lookup[M Mem](f Format, m M, root, va uint64) (e uint64, level int, ok bool) {
	tab, at, level := descend(f, m, root, f.Levels-1, va, 0)
	if tab == nil {
		return 0, 0, false
	}
	e = f.load(tab, at)
	return e, level, e&P != 0
}

// Regs are the control-register values that choose a paging mode.
type Regs struct{ CR0, CR3, CR4, EFER uint64 }

// Translate maps linear address va to physical under regs' paging mode,
// reading tables through m (APM vol. 2, 5.1): none when CR0.PG=0 (32-bit
// linear = physical), legacy 32-bit (4 MiB pages with CR4.PSE, PSE-36 high
// bits honoured), PAE (CR4.PAE: the 4-entry PDPT at CR3 bits 31:5), or
// long mode (EFER.LMA: 2 MiB and 1 GiB pages). Access rights (RW, US, NX)
// are not checked: the caller is the hypervisor, not the guest. ok is false
// for a non-present entry, a table outside m, a non-canonical address, and
// 5-level paging (CR4.LA57), which is not supported.
func Translate[M Mem](r Regs, m M, va uint64) (pa uint64, ok bool) {
	f, root := Legacy, r.CR3&AddrMask32
	switch {
	case r.CR0&x86.CR0PG == 0:
		return va & 0xffff_ffff, true
	case r.EFER&x86.EFERLMA != 0:
		if r.CR4&x86.CR4LA57 != 0 || uint64(int64(va<<16)>>16) != va {
			return 0, false
		}
		f, root = LongMode, r.CR3&AddrMask
	case r.CR4&x86.CR4PAE != 0:
		f, root = PAE, r.CR3&0xffff_ffe0
	case r.CR4&x86.CR4PSE != 0:
		f = LegacyPSE
	}
	if f != LongMode {
		va &= 0xffff_ffff
	}
	e, level, ok := Lookup(f, m, root, va)
	if !ok {
		return 0, false
	}
	return f.Addr(e, level, va), true
}
