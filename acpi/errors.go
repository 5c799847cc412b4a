package acpi

// Error is an error whose text is the line the boot log prints. The sentinel
// values below are interface variables holding string constants, which the
// linker lays out statically: they need no init function and no allocation,
// so the parser can return them before the Go runtime runs, and errors.Is
// compares them.
type Error string

func (e Error) Error() string { return string(e) }

// Errors of FindRSDP.
var (
	ErrNoRSDP         error = Error("acpi: no RSDP found")
	ErrRSDPChecksum   error = Error("acpi: RSDP checksum bad")
	ErrRSDPOutsideMem error = Error("acpi: RSDP outside memory")
	ErrNoRootTable    error = Error("acpi: RSDP names no root table")
)

// Errors of the root tables, the MADT and other tables looked up by
// signature. Each table has its own texts so the log names the table.
var (
	ErrRSDTOutsideMem error = Error("acpi: RSDT outside memory")
	ErrRSDTTruncated  error = Error("acpi: RSDT truncated")
	ErrRSDTSignature  error = Error("acpi: RSDT signature bad")
	ErrRSDTChecksum   error = Error("acpi: RSDT checksum bad")
	ErrXSDTOutsideMem error = Error("acpi: XSDT outside memory")
	ErrXSDTTruncated  error = Error("acpi: XSDT truncated")
	ErrXSDTSignature  error = Error("acpi: XSDT signature bad")
	ErrXSDTChecksum   error = Error("acpi: XSDT checksum bad")

	ErrNoMADT          error = Error("acpi: no MADT")
	ErrMADTTruncated   error = Error("acpi: MADT truncated")
	ErrMADTChecksum    error = Error("acpi: MADT checksum bad")
	ErrMADTEntryLength error = Error("acpi: MADT entry length bad")

	ErrNoFADT        error = Error("acpi: no FADT")
	ErrFADTTruncated error = Error("acpi: FADT truncated")
	ErrFADTChecksum  error = Error("acpi: FADT checksum bad")

	ErrNoTable        error = Error("acpi: table not found")
	ErrTableTruncated error = Error("acpi: table truncated")
	ErrTableChecksum  error = Error("acpi: table checksum bad")
)

// tableErrors are one table's failures. Pointers to the sentinels, not
// copies: a struct of copies would be filled in by an init function, which
// the boot path runs before; addresses of variables are laid out statically.
type tableErrors struct {
	outside, truncated, signature, checksum, missing *error
}

var (
	rsdtErrors = tableErrors{&ErrRSDTOutsideMem, &ErrRSDTTruncated, &ErrRSDTSignature, &ErrRSDTChecksum, &ErrNoRootTable}
	xsdtErrors = tableErrors{&ErrXSDTOutsideMem, &ErrXSDTTruncated, &ErrXSDTSignature, &ErrXSDTChecksum, &ErrNoRootTable}
)

// namedTables gives the tables the boot log names their own messages; any
// other signature gets the generic ones. A table whose header cannot be read
// counts as truncated: its length is unknown.
var namedTables = [...]struct {
	sig  [4]byte
	errs tableErrors
}{
	{[4]byte{'A', 'P', 'I', 'C'}, tableErrors{&ErrMADTTruncated, &ErrMADTTruncated, &ErrNoMADT, &ErrMADTChecksum, &ErrNoMADT}},
	{[4]byte{'F', 'A', 'C', 'P'}, tableErrors{&ErrFADTTruncated, &ErrFADTTruncated, &ErrNoFADT, &ErrFADTChecksum, &ErrNoFADT}},
}

var genericErrors = tableErrors{&ErrTableTruncated, &ErrTableTruncated, &ErrNoTable, &ErrTableChecksum, &ErrNoTable}

func errorsFor(sig [4]byte) *tableErrors {
	for i := range namedTables {
		if namedTables[i].sig == sig {
			return &namedTables[i].errs
		}
	}
	return &genericErrors
}
