package acpi

import "encoding/binary"

// QEMU's firmware (SeaBIOS, OVMF) installs ACPI tables from three fw_cfg
// files: "etc/acpi/rsdp", "etc/acpi/tables" and the linker/loader script
// "etc/table-loader", whose 128-byte commands allocate each file in guest
// memory, patch pointers between them and fix checksums (QEMU
// hw/acpi/bios-linker-loader.c; SeaBIOS src/fw/romfile_loader.c).
const (
	LoaderRSDPFile   = "etc/acpi/rsdp"
	LoaderTablesFile = "etc/acpi/tables"
	LoaderFile       = "etc/table-loader"

	loaderEntryLen   = 128
	loaderFileLen    = 56
	loaderAllocate   = 1
	loaderAddPointer = 2
	loaderAddSum     = 3
	loaderZoneHigh   = 1
	loaderZoneFSeg   = 2
)

// QEMULoader returns the Builder's tables as the three fw_cfg files above,
// for a QEMU started with its own tables off (-machine q35,acpi=off) and
// -fw_cfg name=<file>,file=<path> for each. The loader fixes the checksums
// of the RSDP and the root table only (their pointers move); every other
// table keeps the checksum byte it has, so a test can hand the firmware a
// corrupt MADT and the guest sees exactly that.
func (b *Builder) QEMULoader() (rsdp, tables, loader []byte, err error) {
	c := *b
	c.Base = 0
	img, lay, err := c.Build()
	if err != nil {
		return nil, nil, nil, err
	}
	width, ptrOff := uint64(8), uint64(rsdpXSDTOff)
	if b.ACPI1 {
		width, ptrOff = 4, rsdpRSDTOff
	}
	tables = img[lay.Root:]
	n := (uint64(binary.LittleEndian.Uint32(tables[hdrLengthOff:])) - headerLen) / width
	for i := range n {
		rebase(tables[headerLen+i*width:], width, lay.Root)
	}
	rsdp = append([]byte(nil), img[:rsdpV2Len]...)
	rebase(rsdp[ptrOff:], width, lay.Root)
	if b.ACPI1 {
		rsdp = rsdp[:rsdpV1Len]
	}
	l := loaderScript{}
	l.allocate(LoaderRSDPFile, 16, loaderZoneFSeg)
	l.allocate(LoaderTablesFile, 64, loaderZoneHigh)
	for i := range n {
		l.pointer(LoaderTablesFile, LoaderTablesFile, uint32(headerLen+i*width), uint8(width))
	}
	l.pointer(LoaderRSDPFile, LoaderTablesFile, uint32(ptrOff), uint8(width))
	l.checksum(LoaderTablesFile, hdrChecksumOff, 0, binary.LittleEndian.Uint32(tables[hdrLengthOff:]))
	l.checksum(LoaderRSDPFile, rsdpChecksumOff, 0, rsdpV1Len)
	if !b.ACPI1 {
		l.checksum(LoaderRSDPFile, 32, 0, rsdpV2Len)
	}
	return rsdp, tables, l, nil
}

// rebase subtracts base from the little-endian pointer of width bytes at p.
func rebase(p []byte, width, base uint64) {
	if width == 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)-base)
		return
	}
	binary.LittleEndian.PutUint32(p, binary.LittleEndian.Uint32(p)-uint32(base))
}

type loaderScript []byte

func (l *loaderScript) command(cmd uint32) []byte {
	*l = append(*l, make([]byte, loaderEntryLen)...)
	e := (*l)[len(*l)-loaderEntryLen:]
	binary.LittleEndian.PutUint32(e, cmd)
	return e[4:]
}

func (l *loaderScript) allocate(file string, align uint32, zone uint8) {
	e := l.command(loaderAllocate)
	copy(e[:loaderFileLen], file)
	binary.LittleEndian.PutUint32(e[loaderFileLen:], align)
	e[loaderFileLen+4] = zone
}

func (l *loaderScript) pointer(dst, src string, off uint32, size uint8) {
	e := l.command(loaderAddPointer)
	copy(e[:loaderFileLen], dst)
	copy(e[loaderFileLen:2*loaderFileLen], src)
	binary.LittleEndian.PutUint32(e[2*loaderFileLen:], off)
	e[2*loaderFileLen+4] = size
}

func (l *loaderScript) checksum(file string, off, start, n uint32) {
	e := l.command(loaderAddSum)
	copy(e[:loaderFileLen], file)
	binary.LittleEndian.PutUint32(e[loaderFileLen:], off)
	binary.LittleEndian.PutUint32(e[loaderFileLen+4:], start)
	binary.LittleEndian.PutUint32(e[loaderFileLen+8:], n)
}
