package abi

import (
	"bytes"
	"testing"
)

func TestGroupArgsLayout(t *testing.T) {
	g := GroupArgs{Op: GroupList, Group: 3, Domain: 9, Arg: 16, Next: 4, Buffer: 0x1000,
		Info: GroupInfo{ID: 3, Flags: GroupFlagPaused, Pauses: 2, NMembers: 2, Members: [16]uint16{5, 9}}}
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
		{"info.pauses", 43, 2}, {"info.n", 44, 2}, {"member0", 48, 5}, {"member1", 50, 9}} {
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
	if _, ok := DecodeGroup(make([]byte, 63)); ok {
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
		copy(out[14:16], b[14:16]) // padding is not decoded
		out[65] = b[65]
		g.Encode(out)
		if !bytes.Equal(out, b[:GroupArgsSize]) {
			t.Fatalf("decode/encode changed the union:\n% x\n% x", b[:GroupArgsSize], out)
		}
	})
}
