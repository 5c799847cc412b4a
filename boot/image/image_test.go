package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

var le = binary.LittleEndian

// checkPatched verifies r.Image with debug/elf the way a loader would read it.
func checkPatched(t *testing.T, in []byte, r *Result, opt Options) {
	t.Helper()
	out := r.Image
	if len(out) != len(in) {
		t.Fatalf("size changed: %d -> %d", len(in), len(out))
	}
	f, err := elf.NewFile(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads = append(loads, p)
		}
	}
	first, last := loads[0], loads[len(loads)-1]
	load := [3]uint32{uint32(first.Vaddr), uint32(last.Vaddr + last.Filesz), uint32(last.Vaddr + last.Memsz)}
	if r.Protocols&Multiboot != 0 {
		off, ok := findMultibootHeader(out)
		if !ok || off != r.HeaderOff || off%4 != 0 || off+mbHeaderSize > mbSearchSize {
			t.Fatalf("multiboot header at %#x ok=%v, want %#x within 8 KiB", off, ok, r.HeaderOff)
		}
		want := []uint32{mbMagic, 0x00010002, 0xE4514FFC, // -(magic+flags) mod 2^32
			uint32(first.Vaddr) + uint32(uint64(off)-first.Off), uint32(first.Vaddr),
			uint32(last.Vaddr + last.Filesz), uint32(last.Vaddr + last.Memsz), r.MultibootEntry}
		for i, w := range want {
			if got := le.Uint32(out[off+4*i:]); got != w {
				t.Errorf("multiboot field %d = %#x, want %#x", i, got, w)
			}
		}
		if f.Entry != uint64(r.MultibootEntry) {
			t.Errorf("e_entry %#x, want multiboot entry %#x", f.Entry, r.MultibootEntry)
		}
	} else if _, ok := findMultibootHeader(out); ok {
		t.Errorf("multiboot header written without -protocols=multiboot")
	}
	if r.Protocols&Multiboot2 != 0 {
		checkMultiboot2(t, out, r, load)
		if f.Entry != uint64(r.MultibootEntry) {
			t.Errorf("e_entry %#x, want multiboot entry %#x", f.Entry, r.MultibootEntry)
		}
	} else if _, ok := findMultiboot2Header(out); ok {
		t.Errorf("multiboot2 header written without -protocols=multiboot2")
	}
	if got := pvhEntryAsQEMU(t, f); (r.Protocols&PVH != 0) != (got != 0) || (got != 0 && got != uint64(r.PVHEntry)) {
		t.Errorf("PVH entry as QEMU reads it = %#x, want %#x (protocols %v)", got, r.PVHEntry, r.Protocols)
	}
	checkTrampoline(t, out, r)
	checkUntouched(t, in, r)
}

// pvhEntryAsQEMU mimics QEMU's get_elf_note_type + read_pvh_start_addr:
// first PT_NOTE holding a type-18 note, 8-byte value at
// 12 + align_up(namesz, p_align).
func pvhEntryAsQEMU(t *testing.T, f *elf.File) uint64 {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			t.Fatalf("reading PT_NOTE: %v", err)
		}
		if len(b) >= 24 && le.Uint32(b[8:]) == xenNoteType && string(b[12:16]) == "Xen\x00" {
			a := p.Align
			return le.Uint64(b[12+(uint64(le.Uint32(b))+a-1)/a*a:])
		}
	}
	return 0
}

// checkTrampoline follows the absolute addresses patched into the code.
func checkTrampoline(t *testing.T, out []byte, r *Result) {
	t.Helper()
	blob := out[r.BlobOff : r.BlobOff+r.BlobSize]
	at := func(va uint32) []byte { return blob[va-r.BlobVaddr:] }
	if !bytes.HasPrefix(at(r.PVHEntry), []byte{0xFA, 0xB8, 0x78, 0xC5, 0x6E, 0x33}) {
		t.Errorf("PVH entry does not start with cli; mov eax, 0x336ec578: % x", at(r.PVHEntry)[:8])
	}
	if !bytes.HasPrefix(at(r.MultibootEntry), []byte{0xFA, 0x89, 0xC5, 0x89, 0xDE}) {
		t.Errorf("multiboot entry does not start with cli; mov ebp,eax; mov esi,ebx: % x", at(r.MultibootEntry)[:8])
	}
	lgdt := bytes.Index(blob, []byte{0x0F, 0x01, 0x15})
	gdtr := at(le.Uint32(blob[lgdt+3:]))
	if le.Uint16(gdtr) != 23 || !bytes.Equal(at(le.Uint32(gdtr[2:]))[:24], gdtBytes(0)[:24]) {
		t.Errorf("lgdt operand does not point at limit 23 + the 3-entry GDT")
	}
	cr3 := bytes.Index(blob, []byte{0x0F, 0x22, 0xD8})
	if blob[cr3-5] != 0xB8 || le.Uint32(blob[cr3-4:]) != r.PageTables || r.PageTables%pageSize != 0 {
		t.Errorf("mov cr3 does not load the page-aligned tables %#x", r.PageTables)
	}
	far := bytes.Index(blob, []byte{0x0F, 0x22, 0xC0, 0xEA}) + 3
	stub := le.Uint32(blob[far+1:])
	if le.Uint16(blob[far+5:]) != SelCode64 || stub != r.BlobVaddr+uint32(far+7) {
		t.Errorf("far jump to %#x:%#x, want 0x08:%#x", le.Uint16(blob[far+5:]), stub, r.BlobVaddr+uint32(far+7))
	}
	tail := append(append([]byte{0x89, 0xEF, 0x89, 0xF6, 0x48, 0xB8}, le.AppendUint64(nil, r.Entry64)...), 0xFF, 0xE0)
	if !bytes.HasSuffix(blob, tail) || !bytes.HasPrefix(at(stub), []byte{0xB8, 0x10, 0, 0, 0, 0x8E, 0xD8}) {
		t.Errorf("64-bit stub does not load 0x10 and end with mov edi,ebp; mov esi,esi; movabs rax,%#x; jmp rax", r.Entry64)
	}
}

// checkUntouched: only the blob, e_entry and one program header may change.
func checkUntouched(t *testing.T, in []byte, r *Result) {
	t.Helper()
	phoff := int(le.Uint64(in[0x20:]))
	for i := range in {
		switch {
		case i >= r.BlobOff && i < r.BlobOff+r.BlobSize, i >= 0x18 && i < 0x20,
			i >= phoff && i < phoff+int(le.Uint16(in[0x38:]))*phdrSize:
			continue
		case in[i] != r.Image[i]:
			t.Fatalf("byte at file offset %#x changed outside the blob and headers", i)
		}
	}
}

func TestPatchProbe(t *testing.T) {
	_, in := buildProbe(t)
	for _, p := range []Protocol{allProtocols, Multiboot | PVH, Multiboot, Multiboot2, Multiboot2 | PVH, PVH} {
		t.Run(p.String(), func(t *testing.T) {
			opt := probeOpts
			opt.Protocols = p
			r, err := Patch(in, opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r.Summary())
			checkPatched(t, in, r, opt)
			if _, err := Patch(r.Image, opt); !errors.Is(err, ErrAlreadyPatched) {
				t.Errorf("patching twice: err = %v, want ErrAlreadyPatched", err)
			}
		})
	}
}

func TestPatchMini(t *testing.T) {
	in := miniELF(defaultMini)
	r, err := Patch(in, probeOpts)
	if err != nil {
		t.Fatal(err)
	}
	checkPatched(t, in, r, probeOpts)
	if r.PageTables != 0x202000 || r.Entry64 != 0x200000 {
		t.Errorf("page tables %#x entry64 %#x, want 0x202000 0x200000", r.PageTables, r.Entry64)
	}
	_, err = Patch(r.Image, probeOpts)
	if err == nil || !strings.Contains(err.Error(), "already has a multiboot header") {
		t.Errorf("second patch: %v, want refusal naming the multiboot header", err)
	}
}

func TestParseProtocols(t *testing.T) {
	for in, want := range map[string]Protocol{"multiboot": Multiboot, "pvh": PVH,
		"multiboot,pvh": Multiboot | PVH, "pvh, multiboot": Multiboot | PVH,
		"multiboot2": Multiboot2, "multiboot,multiboot2,pvh": allProtocols} {
		if got, err := ParseProtocols(in); err != nil || got != want {
			t.Errorf("ParseProtocols(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "linux", "pvh,"} {
		if _, err := ParseProtocols(in); err == nil {
			t.Errorf("ParseProtocols(%q) accepted", in)
		}
	}
}
