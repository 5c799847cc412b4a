package abi

import (
	"bytes"
	"testing"
)

func TestGroupArgsLayout(t *testing.T) {
	name, _ := MakeGroupName("web")
	g := GroupArgs{Op: GroupList, Group: 3, Domain: 9, Arg: 16, Next: 4, Buffer: 0x1000,
		Info: GroupInfo{ID: 3, Flags: GroupFlagPaused, Pauses: 2, NMembers: 2, Members: [16]uint16{5, 9}}, Name: name}
	var c Ctl
	g.Encode(c.Union[:])
	b := c.Encode()
	// Spot-check offsets from the layout table (union at 16).
	for _, tc := range []struct {
		name string
		off  int
		want byte
	}{{"op", 16, GroupList}, {"group", 20, 3}, {"domain", 22, 9}, {"arg", 24, 16},
		{"next", 28, 4}, {"buffer", 33, 0x10}, {"info.id", 40, 3}, {"info.flags", 42, GroupFlagPaused},
		{"info.pauses", 43, 2}, {"info.n", 44, 2}, {"member0", 48, 5}, {"member1", 50, 9},
		{"name", 88, 'w'}, {"name.end", 90, 'b'}, {"name.pad", 91, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			if b[tc.off] != tc.want {
				t.Fatalf("byte %d = %#x, want %#x", tc.off, b[tc.off], tc.want)
			}
		})
	}
	got, ok := DecodeGroup(c.Union[:])
	if !ok || got != g {
		t.Fatalf("round trip: %+v", got)
	}
	if _, ok := DecodeGroup(make([]byte, GroupArgsSize-1)); ok {
		t.Fatal("short union accepted")
	}
}

func FuzzDecodeGroup(f *testing.F) {
	var u [112]byte
	GroupArgs{Op: GroupPause, Group: 2}.Encode(u[:])
	f.Add(u[:])
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, ok := DecodeGroup(b)
		if !ok {
			return
		}
		out := make([]byte, GroupArgsSize)
		g.Encode(out)
		copy(out[14:16], b[14:16]) // padding is neither decoded nor encoded
		out[65] = b[65]            // sched padding: encoded as zero
		if !bytes.Equal(out, b[:GroupArgsSize]) {
			t.Fatalf("decode/encode changed the union:\n% x\n% x", b[:GroupArgsSize], out)
		}
	})
}

func TestGroupName(t *testing.T) {
	full := string(bytes.Repeat([]byte("n"), GroupNameSize))
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"", true}, {"web", true}, {full, true}, {full + "n", false}, {"a\x00b", false}} {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := MakeGroupName(tc.name)
			if ok != tc.ok {
				t.Fatalf("MakeGroupName ok = %v", ok)
			}
			if ok && (n.String() != tc.name || !n.Padded()) {
				t.Fatalf("round trip %q, padded %v", n.String(), n.Padded())
			}
		})
	}
	n, _ := MakeGroupName("web")
	n[5] = 'x' // garbage after the NUL
	if n.Padded() || n.String() != "web" {
		t.Fatalf("%q padded = %v", n.String(), n.Padded())
	}
}

func TestGroupOrderBuffer(t *testing.T) {
	order := []uint16{4, 1, 0x7fef}
	b := EncodeGroupIDs(order)
	if len(b) != 6 || b[4] != 0xef || b[5] != 0x7f {
		t.Fatalf("order encodes as % x", b)
	}
	if got := DecodeGroupIDs(b, 3); !bytes.Equal(EncodeGroupIDs(got), b) {
		t.Fatalf("order round trip: %v", got)
	}
}
