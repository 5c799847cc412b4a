package kernel

// Symbolizing PCs in kernel context, where the runtime's FuncForPC cannot be
// used (it may allocate). It reads the pclntab the Go linker emits
// (runtime/symtab.go: pcHeader, functab, _func) directly; no runtime state
// is needed, so it works before the runtime starts and after it is wrecked.
// Inlined frames are reported as the function they were inlined into.

// Offsets in pcHeader (Go 1.20+ layout).
const (
	pchNfunc       = 8
	pchFuncnameOff = 32
	pchPclnOff     = 64
	pclnMagicGo120 = 0xfffffff1
)

func pclntabAddr() uintptr
func textRange() (start, end uintptr)

// funcFor returns the name (as a byte slice of the read-only table) and entry
// PC of the function containing pc, or ok=false.
// Kernel context.
func funcFor(pc uintptr) (name []byte, entry uintptr, ok bool) {
	hdr := pclntabAddr()
	text, etext := textRange()
	if pc < text || pc >= etext || *uint32At(hdr) < pclnMagicGo120 {
		return nil, 0, false
	}
	nfunc := int(*wordAt(hdr + pchNfunc))
	pcln := hdr + uintptr(*wordAt(hdr + pchPclnOff))
	off := uint32(pc - text)
	lo, hi := 0, nfunc // find the last entry with entryoff <= off
	for lo < hi {
		m := (lo + hi + 1) / 2
		if *uint32At(pcln + uintptr(m)*8) <= off {
			lo = m
		} else {
			hi = m - 1
		}
	}
	fn := pcln + uintptr(*uint32At(pcln + uintptr(lo)*8 + 4))
	nameOff := *ptrAt[int32](fn + 4)
	p := hdr + uintptr(*wordAt(hdr + pchFuncnameOff)) + uintptr(nameOff)
	n := uintptr(0)
	for n < 256 && *ptrAt[byte](p + n) != 0 {
		n++
	}
	return bytesAt(p, n), text + uintptr(*uint32At(pcln + uintptr(lo)*8)), true
}

// kprintSym prints "name+0xoff" for pc, or "?".
// Kernel context.
func kprintSym(pc uintptr) {
	name, entry, ok := funcFor(pc)
	if !ok {
		kprint("?")
		return
	}
	consoleWrite(name)
	kprint("+0x")
	kprintHexShort(uint64(pc - entry))
}
