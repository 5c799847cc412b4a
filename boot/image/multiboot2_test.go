package image

import "testing"

// mb2Tag is one header tag as a loader walks it (Multiboot2 §3.1.3).
type mb2Tag struct {
	typ, flags uint16
	body       []byte
}

// walkMB2 reads the header at off the way GRUB's multiboot2 loader does:
// magic, checksum, then tags until the end tag, each 8-byte aligned.
func walkMB2(t *testing.T, out []byte, off int) []mb2Tag {
	t.Helper()
	if off%8 != 0 || off+mb2HeaderSize > mb2SearchSize {
		t.Fatalf("multiboot2 header at %#x: want 8-byte aligned within 32 KiB", off)
	}
	h := out[off:]
	length := le.Uint32(h[8:])
	if le.Uint32(h) != 0xE85250D6 || le.Uint32(h[4:]) != 0 || length != 96 || le.Uint32(h[12:]) != 0x17ADAECA {
		t.Fatalf("multiboot2 header magic/arch/length/checksum = % x, want d6 50 52 e8, 0, 96, 0x17adaeca", h[:16])
	}
	var tags []mb2Tag
	for p := uint32(16); ; {
		if p+8 > length {
			t.Fatalf("tags run past header_length %d at %d", length, p)
		}
		size := le.Uint32(h[p+4:])
		tag := mb2Tag{le.Uint16(h[p:]), le.Uint16(h[p+2:]), h[p+8 : p+size]}
		if tag.typ == 0 {
			if size != 8 || p+8 != length {
				t.Fatalf("end tag size %d at %d, header_length %d", size, p, length)
			}
			return tags
		}
		tags = append(tags, tag)
		p = (p + size + 7) &^ 7
	}
}

// checkMultiboot2 checks the header against what the v1 header says and
// that it sits beside, not over, the v1 header and the PVH note. load holds
// load_addr, load_end_addr and bss_end_addr as read from the ELF.
func checkMultiboot2(t *testing.T, out []byte, r *Result, load [3]uint32) {
	t.Helper()
	off, ok := findMultiboot2Header(out)
	if !ok || off != r.MB2HeaderOff {
		t.Fatalf("multiboot2 header found at %#x (%v), want %#x", off, ok, r.MB2HeaderOff)
	}
	for _, other := range []struct {
		name string
		at   int
		size int
	}{{"multiboot header", r.HeaderOff, mbHeaderSize}, {"PVH note", r.NoteOff, xenNoteSize}} {
		if other.at >= 0 && other.at < off+mb2HeaderSize && off < other.at+other.size {
			t.Errorf("multiboot2 header [%#x,+%d) overlaps the %s at %#x", off, mb2HeaderSize, other.name, other.at)
		}
	}
	byType := map[uint16][]byte{}
	for _, tag := range walkMB2(t, out, off) {
		if tag.flags != 0 {
			t.Errorf("tag %d flags %#x, want 0 (required)", tag.typ, tag.flags)
		}
		byType[tag.typ] = tag.body
	}
	var req []uint32
	for b := byType[1]; len(b) >= 4; b = b[4:] {
		req = append(req, le.Uint32(b))
	}
	for _, need := range []uint32{1, 3, 6, 14, 15} {
		if !containsU32(req, need) {
			t.Errorf("information request %v lacks tag type %d", req, need)
		}
	}
	if containsU32(req, 8) || byType[5] != nil {
		t.Errorf("framebuffer requested (info request %v, framebuffer tag %v): Grove is serial-only", req, byType[5] != nil)
	}
	addr := byType[2]
	if len(addr) != 16 {
		t.Fatalf("address tag body %d bytes, want 16", len(addr))
	}
	for i, w := range []uint32{r.BlobVaddr + offMB2, load[0], load[1], load[2]} {
		if got := le.Uint32(addr[4*i:]); got != w {
			t.Errorf("address tag field %d = %#x, want %#x", i, got, w)
		}
	}
	if e := byType[3]; len(e) != 4 || le.Uint32(e) != r.MultibootEntry {
		t.Errorf("entry tag % x, want entry %#x", e, r.MultibootEntry)
	}
	if byType[7] != nil || byType[8] != nil || byType[9] != nil {
		t.Error("EFI boot-services or EFI entry tags present: GRUB would stay in 64-bit EFI mode")
	}
}

func containsU32(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
