package acpi

// System description table header (ACPI 6.5 §5.2.6, table 5.4).
const (
	headerLen      = 36
	hdrLengthOff   = 4
	hdrRevisionOff = 8
	hdrChecksumOff = 9
	hdrOEMIDOff    = 10
	hdrTableIDOff  = 16
	hdrOEMRevOff   = 24
	hdrCreatorOff  = 28
	hdrCreatorRev  = 32
	maxTableLen    = 1 << 20 // no MADT or FADT comes near; bounds a lying Length
)

// Table is a system description table whose checksum was checked. Data views
// the caller's memory: the whole table, header included.
type Table struct {
	Addr uint64
	Data []byte
}

// Signature returns the table's four signature bytes.
func (t *Table) Signature() [4]byte { return [4]byte(t.Data[:4]) }

// Revision returns the header's revision byte.
func (t *Table) Revision() uint8 { return t.Data[hdrRevisionOff] }

// Body returns the table after its 36-byte header.
func (t *Table) Body() []byte { return t.Data[headerLen:] }

// root is the RSDT or XSDT with the width of its entries.
type root struct {
	entries []byte
	width   int // 4 for the RSDT, 8 for the XSDT
}

func (r *root) count() int { return len(r.entries) / r.width }

func (r *root) entry(i int) uint64 {
	e := r.entries[i*r.width:]
	if r.width == 8 {
		return le64(e)
	}
	return uint64(le32(e))
}

// readRoot validates the root table the RSDP names: the XSDT when UsesXSDT,
// else the RSDT (§5.2.7, §5.2.8).
func readRoot[M Memory](mem M, rsdp *RSDP) (root, error) {
	sig, pa, width, errs := [4]byte{'R', 'S', 'D', 'T'}, uint64(rsdp.RSDTAddr), 4, &rsdtErrors
	if rsdp.UsesXSDT() {
		sig, pa, width, errs = [4]byte{'X', 'S', 'D', 'T'}, rsdp.XSDTAddr, 8, &xsdtErrors
	}
	if pa == 0 {
		return root{}, ErrNoRootTable
	}
	t, err := readTable(mem, pa, errs)
	if err != nil {
		return root{}, err
	}
	if t.Signature() != sig {
		return root{}, *errs.signature
	}
	return root{entries: t.Body(), width: width}, nil
}

// readTable reads the table at pa: its header, then Length bytes, whose sum
// must be zero.
func readTable[M Memory](mem M, pa uint64, errs *tableErrors) (Table, error) {
	h, ok := mem.Bytes(pa, headerLen)
	if !ok {
		return Table{}, *errs.outside
	}
	n := uint64(le32(h[hdrLengthOff:]))
	if n < headerLen || n > maxTableLen {
		return Table{}, *errs.truncated
	}
	b, ok := mem.Bytes(pa, n)
	if !ok {
		return Table{}, *errs.truncated
	}
	if sum(b) != 0 {
		return Table{}, *errs.checksum
	}
	return Table{Addr: pa, Data: b}, nil
}

// FindTable returns the index-th table (0 for the first) with signature sig
// that the root table lists, in the root table's order, with its checksum
// checked. Entries whose header lies outside memory are skipped: they cannot
// be the table asked for as far as anyone can tell. The MADT and FADT have
// their own error texts (ErrMADTChecksum); other signatures the generic ones.
func FindTable[M Memory](mem M, rsdp RSDP, sig [4]byte, index int) (Table, error) {
	rt, err := readRoot(mem, &rsdp)
	if err != nil {
		return Table{}, err
	}
	errs := errorsFor(sig)
	for i := 0; i < rt.count(); i++ {
		pa := rt.entry(i)
		h, ok := mem.Bytes(pa, headerLen)
		if !ok || [4]byte(h[:4]) != sig {
			continue
		}
		if index > 0 {
			index--
			continue
		}
		return readTable(mem, pa, errs)
	}
	return Table{}, *errs.missing
}
