package acpi

// Memory is the parser's only door to physical memory.
type Memory interface {
	// Bytes returns a view of physical memory [pa, pa+n), or ok=false when
	// any byte of it lies outside RAM or outside the caller's identity map.
	// The parser only reads the view and keeps no reference to it after
	// returning, except inside Table.Data.
	Bytes(pa, n uint64) (b []byte, ok bool)
}

// Segment is a piece of physical memory held in a Go slice.
type Segment struct {
	Addr uint64
	Data []byte
}

// Segments is a Memory made of Go slices: fake RAM for host tests, and for
// checking tables the Builder wrote into a guest's memory image. Bytes
// answers a range that lies whole inside one segment.
type Segments []Segment

// Bytes implements Memory.
func (s Segments) Bytes(pa, n uint64) ([]byte, bool) {
	for i := range s {
		size := uint64(len(s[i].Data))
		if pa >= s[i].Addr && n <= size && pa-s[i].Addr <= size-n {
			off := pa - s[i].Addr
			return s[i].Data[off : off+n : off+n], true
		}
	}
	return nil, false
}

// le16, le32 and le64 read little-endian fields; the callers have checked
// that b is long enough (encoding/binary would do, but its panicking bounds
// checks are the same and this keeps the boot path's imports to none).
func le16(b []byte) uint16 { _ = b[1]; return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b []byte) uint64 { _ = b[7]; return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

// sum is the ACPI checksum rule: all bytes of a valid structure add up to 0
// modulo 256.
func sum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}
