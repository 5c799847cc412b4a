package guest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"

	gt "grove/boot/guest/guesttest"
)

func TestParseImageAccepts(t *testing.T) {
	for _, class64 := range []bool{false, true} {
		name := map[bool]string{false: "elf32", true: "elf64"}[class64]
		t.Run(name, func(t *testing.T) {
			img, err := ParseImage("simple.elf", gt.Simple(class64))
			if err != nil {
				t.Fatal(err)
			}
			if img.Entry != 0x100000 || len(img.Segments) != 2 || img.Name != "simple.elf" {
				t.Fatalf("got %+v", img)
			}
			if s := img.Segments[1]; s.Paddr != 0x110000 || s.Memsz != 0x2000 || string(s.FileData) != "guesttest data" {
				t.Errorf("data segment %+v", s)
			}
			if img.End() != 0x112000 {
				t.Errorf("End = %#x", img.End())
			}
		})
	}
}

func TestParseImageNoteForms(t *testing.T) {
	le := binary.LittleEndian
	for _, tc := range []struct {
		name  string
		notes []gt.Note
	}{
		{"8-byte-desc", []gt.Note{{Owner: "Xen", Type: 18, Desc: le.AppendUint64(nil, 0x100010)}}},
		{"after-other-notes", []gt.Note{
			{Owner: "GNU", Type: 3, Desc: []byte{1, 2, 3, 4, 5}},
			{Owner: "Xen", Type: 6, Desc: []byte("linux")},
			gt.PVHNote(0x100010),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := ParseImage("x", gt.ELF(gt.Spec{Class64: true, Notes: tc.notes,
				Segments: []gt.Segment{{Paddr: 0x100000, Data: make([]byte, 32)}}}))
			if err != nil {
				t.Fatal(err)
			}
			if img.Entry != 0x100010 {
				t.Errorf("entry %#x", img.Entry)
			}
		})
	}
}

// TestParseImageRefuses checks that each broken image is refused with an
// error naming the image and the problem.
func TestParseImageRefuses(t *testing.T) {
	le := binary.LittleEndian
	seg := []gt.Segment{{Paddr: 0x100000, Data: make([]byte, 32)}}
	pvh := []gt.Note{gt.PVHNote(0x100000)}
	spec := func(f func(*gt.Spec)) []byte {
		s := gt.Spec{Class64: true, Segments: seg, Notes: pvh}
		f(&s)
		return gt.ELF(s)
	}
	simple := gt.Simple(true)
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "not an ELF image", nil},
		{"text", "not an ELF image", []byte("#!/bin/sh\necho hello\n")},
		{"truncated-header", "not an ELF image", simple[:40]},
		{"arm", "want an x86", spec(func(s *gt.Spec) { s.Machine = gt.EMARM })},
		{"elf32-x86_64", "want an x86", spec(func(s *gt.Spec) { s.Class64 = false; s.Machine = gt.EMX86_64 })},
		{"pie", "want an executable (ET_EXEC), have ET_DYN", spec(func(s *gt.Spec) { s.Type = gt.ETDyn })},
		{"no-note", "no PVH entry note", spec(func(s *gt.Spec) { s.Notes = nil })},
		{"wrong-owner", "no PVH entry note", spec(func(s *gt.Spec) { s.Notes = []gt.Note{{Owner: "Xem", Type: 18, Desc: []byte{0, 0, 16, 0}}} })},
		{"wrong-type", "no PVH entry note", spec(func(s *gt.Spec) { s.Notes = []gt.Note{{Owner: "Xen", Type: 17, Desc: []byte{0, 0, 16, 0}}} })},
		{"note-desc-2", "2-byte descriptor", spec(func(s *gt.Spec) { s.Notes = []gt.Note{{Owner: "Xen", Type: 18, Desc: []byte{0, 0}}} })},
		{"entry-above-4g", "above 4 GiB", spec(func(s *gt.Spec) {
			s.Notes = []gt.Note{{Owner: "Xen", Type: 18, Desc: le.AppendUint64(nil, 1<<32)}}
		})},
		{"no-load", "no PT_LOAD", spec(func(s *gt.Spec) { s.Segments = nil })},
		{"segment-past-eof", "past the end", simple[:len(simple)-4]},
		{"overlap", "overlap", spec(func(s *gt.Spec) {
			s.Segments = []gt.Segment{{Paddr: 0x100000, Data: make([]byte, 32)}, {Paddr: 0x100010, Data: make([]byte, 32)}}
		})},
		{"filesz-gt-memsz", "file size 0x20 is larger than memory size 0x10", spec(func(s *gt.Spec) {
			s.Segments = []gt.Segment{{Paddr: 0x100000, Data: make([]byte, 32), Memsz: 16}}
		})},
		{"overflow", "overflows", spec(func(s *gt.Spec) {
			s.Segments = append(s.Segments, gt.Segment{Paddr: ^uint64(0) - 8, Data: make([]byte, 32)})
		})},
		{"entry-outside", "PVH entry 0x200000 is outside every PT_LOAD", spec(func(s *gt.Spec) { s.Notes = []gt.Note{gt.PVHNote(0x200000)} })},
		{"entry-at-end", "outside every PT_LOAD", spec(func(s *gt.Spec) { s.Notes = []gt.Note{gt.PVHNote(0x100020)} })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseImage("guests/bad.elf", tc.data)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "guests/bad.elf: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want it to name the image and contain %q", msg, tc.want)
			}
		})
	}
}

func TestParseImageNoteRunsPastSegment(t *testing.T) {
	data := gt.Simple(false)
	// Grow the first note's descsz so it claims more than its PT_NOTE holds.
	i := bytes.Index(data, []byte("Xen\x00")) - 12
	binary.LittleEndian.PutUint32(data[i+4:], 64)
	_, err := ParseImage("n.elf", data)
	if err == nil || !strings.Contains(err.Error(), "note runs past") {
		t.Errorf("got %v", err)
	}
}

func TestParseImageKeepsClass(t *testing.T) {
	img, err := ParseImage("x", gt.Simple(false))
	if err != nil || img.Class != elf.ELFCLASS32 {
		t.Fatalf("%v %v", img, err)
	}
}
