package abi

import (
	"bytes"
	"testing"
)

// Spot checks of each union's byte layout against its doc table: one
// field at a time, set alone, must land at the documented offset.
func TestUnionLayouts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		encode func(u []byte)
		off    int
		want   byte
	}{
		{"create.memory_mb", CreateDomain{MemoryMB: 0x11}.Encode, 0, 0x11},
		{"create.flags", CreateDomain{Flags: 0x22}.Encode, 4, 0x22},
		{"create.image_gva", CreateDomain{Image: 0x33}.Encode, 8, 0x33},
		{"create.image_len", CreateDomain{ImageLen: 0x44}.Encode, 16, 0x44},
		{"create.cmdline_gva", CreateDomain{Cmdline: 0x55}.Encode, 24, 0x55},
		{"create.cmdline_len", CreateDomain{CmdlineLen: 0x66 << 56}.Encode, 39, 0x66},
		{"create.vcpus", CreateDomain{VCPUs: 0x77}.Encode, 40, 0x77},
		{"create.initrd_gva", CreateDomain{Initrd: 0x88}.Encode, 48, 0x88},
		{"create.initrd_len", CreateDomain{InitrdLen: 0x99 << 56}.Encode, 63, 0x99},
		{"physinfo.nr_cpus", PhysInfo{CPUs: 0x11}.Encode, 0, 0x11},
		{"physinfo.tsc_khz", PhysInfo{TSCkHz: 0x22}.Encode, 4, 0x22},
		{"physinfo.total_pages", PhysInfo{TotalPages: 0x33}.Encode, 8, 0x33},
		{"physinfo.free_pages", PhysInfo{FreePages: 0x44 << 56}.Encode, 23, 0x44},
		{"infolist.first_domain", InfoList{First: 0x11}.Encode, 0, 0x11},
		{"infolist.max_domains", InfoList{Max: 0x22}.Encode, 4, 0x22},
		{"infolist.buffer_gva", InfoList{Buffer: 0x33}.Encode, 8, 0x33},
		{"infolist.num_domains", InfoList{Num: 0x44 << 24}.Encode, 19, 0x44},
		{"event.kind", Event{Kind: 0x11}.Encode, 0, 0x11},
		{"event.domain", Event{Domain: 0x22}.Encode, 4, 0x22},
		{"event.group", Event{Group: 0x44}.Encode, 6, 0x44},
		{"event.lost", Event{Lost: 0x33}.Encode, 8, 0x33},
		{"event.reason", Event{Reason: "D"}.Encode, 16, 'D'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := make([]byte, EventSize)
			tc.encode(u)
			for i, b := range u {
				if want := map[bool]byte{true: tc.want}[i == tc.off]; b != want {
					t.Fatalf("byte %d = %#x, want %#x", i, b, want)
				}
			}
		})
	}
}

func TestUnionRoundTrips(t *testing.T) {
	var u [UnionSize]byte
	c := CreateDomain{MemoryMB: 64, Flags: 0, Image: 0x1000, ImageLen: 4096, Cmdline: 0x9000, CmdlineLen: 12,
		VCPUs: 2, Initrd: 0x200000, InitrdLen: 5 << 20}
	c.Encode(u[:])
	if got, ok := DecodeCreateDomain(u[:]); !ok || got != c {
		t.Fatalf("createdomain: %+v", got)
	}
	p := PhysInfo{CPUs: 1, TSCkHz: 2_000_000, TotalPages: 1 << 17, FreePages: 1 << 16}
	p.Encode(u[:])
	if got, ok := DecodePhysInfo(u[:]); !ok || got != p {
		t.Fatalf("physinfo: %+v", got)
	}
	l := InfoList{First: 2, Max: 64, Buffer: 0xdead000, Num: 3}
	l.Encode(u[:])
	if got, ok := DecodeInfoList(u[:]); !ok || got != l {
		t.Fatalf("infolist: %+v", got)
	}
	for name, short := range map[string]func() bool{
		"createdomain": func() bool { _, ok := DecodeCreateDomain(u[:CreateDomainSize-1]); return ok },
		"physinfo":     func() bool { _, ok := DecodePhysInfo(u[:PhysInfoSize-1]); return ok },
		"infolist":     func() bool { _, ok := DecodeInfoList(u[:InfoListSize-1]); return ok },
		"event":        func() bool { _, ok := DecodeEvent(make([]byte, EventSize-1)); return ok },
		"domaininfo":   func() bool { _, ok := DecodeDomainInfo(make([]byte, InfoSize-1)); return ok },
	} {
		if short() {
			t.Errorf("%s: short buffer accepted", name)
		}
	}
}

func TestEventReasonIsCut(t *testing.T) {
	long := string(bytes.Repeat([]byte("r"), 200))
	b := bytes.Repeat([]byte{0xee}, EventSize)
	Event{Kind: EventCrashed, Domain: 7, Group: 3, Lost: 2, Reason: long}.Encode(b)
	got, ok := DecodeEvent(b)
	if !ok || got.Kind != EventCrashed || got.Domain != 7 || got.Group != 3 || got.Lost != 2 || got.Reason != long[:EventReasonMax] {
		t.Fatalf("decoded %+v", got)
	}
	if b[EventSize-1] != 0 {
		t.Fatal("reason not NUL-terminated")
	}
}

func TestGroupIDs(t *testing.T) {
	ids := []uint16{0, 3, 0xffff}
	if got := DecodeGroupIDs(EncodeGroupIDs(ids), 3); !bytes.Equal(EncodeGroupIDs(got), EncodeGroupIDs(ids)) {
		t.Fatalf("round trip %v", got)
	}
	if got := DecodeGroupIDs(EncodeGroupIDs(ids), 9); len(got) != 3 {
		t.Fatalf("n beyond the buffer: %v", got)
	}
}

// The fuzz targets: whatever a guest puts in a buffer decodes without
// panicking, and decoding then encoding gives back every decoded byte.
func FuzzDecodeCreateDomain(f *testing.F) {
	var u [UnionSize]byte
	CreateDomain{MemoryMB: 4, ImageLen: 100}.Encode(u[:])
	f.Add(u[:])
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, ok := DecodeCreateDomain(b); ok {
			out := make([]byte, CreateDomainSize)
			copy(out[44:48], b[44:48]) // padding is not decoded
			a.Encode(out)
			if !bytes.Equal(out, b[:CreateDomainSize]) {
				t.Fatalf("round trip:\n% x\n% x", b[:CreateDomainSize], out)
			}
		}
	})
}

func FuzzDecodeInfoList(f *testing.F) {
	var u [UnionSize]byte
	InfoList{Max: 64, Buffer: 0x1000}.Encode(u[:])
	f.Add(u[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, ok := DecodeInfoList(b); ok {
			out := make([]byte, InfoListSize)
			copy(out[2:4], b[2:4]) // padding is not decoded
			l.Encode(out)
			if !bytes.Equal(out, b[:InfoListSize]) {
				t.Fatalf("round trip:\n% x\n% x", b[:InfoListSize], out)
			}
		}
		DecodeDomainInfos(b, len(b)/InfoSize+1)
	})
}

func FuzzDecodePhysInfo(f *testing.F) {
	var u [UnionSize]byte
	PhysInfo{CPUs: 1}.Encode(u[:])
	f.Add(u[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, ok := DecodePhysInfo(b); ok {
			out := make([]byte, PhysInfoSize)
			p.Encode(out)
			if !bytes.Equal(out, b[:PhysInfoSize]) {
				t.Fatalf("round trip:\n% x\n% x", b[:PhysInfoSize], out)
			}
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	b := make([]byte, EventSize)
	Event{Kind: EventCrashed, Domain: 2, Reason: "triple fault"}.Encode(b)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := DecodeEvent(b)
		if !ok {
			return
		}
		out := make([]byte, EventSize)
		e.Encode(out)
		if again, _ := DecodeEvent(out); again != e {
			t.Fatalf("re-encoded event decodes as %+v, want %+v", again, e)
		}
	})
}
