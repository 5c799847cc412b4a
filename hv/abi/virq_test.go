package abi

import (
	"errors"
	"fmt"
	"testing"

	"grove/errno"
)

func TestVIRQBindLayout(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    VIRQBind
		off  int
		want byte
	}{
		{"virq", VIRQBind{VIRQ: 0x11}, 0, 0x11},
		{"virq_high", VIRQBind{VIRQ: 0x22 << 24}, 3, 0x22},
		{"vcpu", VIRQBind{VCPU: 0x33}, 4, 0x33},
		{"vector", VIRQBind{Vector: 0x44}, 8, 0x44},
		{"reserved", VIRQBind{reserved: [7]byte{6: 0x55}}, 15, 0x55},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, VIRQBindSize)
			tc.b.Encode(buf)
			for i, got := range buf {
				if want := map[bool]byte{true: tc.want}[i == tc.off]; got != want {
					t.Fatalf("byte %d = %#x, want %#x", i, got, want)
				}
			}
			if back, ok := DecodeVIRQBind(buf); !ok || back != tc.b {
				t.Fatalf("round trip: %+v, %v", back, ok)
			}
		})
	}
	if _, ok := DecodeVIRQBind(make([]byte, VIRQBindSize-1)); ok {
		t.Fatal("short buffer accepted")
	}
}

func TestVIRQBindValidate(t *testing.T) {
	for _, tc := range []struct {
		b    VIRQBind
		want error
	}{
		{VIRQBind{VIRQ: VIRQDomExc, Vector: 0x51}, nil},
		{VIRQBind{VIRQ: VIRQSerial, Vector: 255, VCPU: 7}, nil},
		{VIRQBind{VIRQ: VIRQSerial}, nil}, // unbind
		{VIRQBind{VIRQ: VIRQDomExc, Vector: MinIPIVector}, nil},
		{VIRQBind{VIRQ: VIRQDomExc, Vector: 14}, errno.EINVAL},
		{VIRQBind{VIRQ: 0, Vector: 0x51}, errno.EINVAL},
		{VIRQBind{VIRQ: NumVIRQs, Vector: 0x51}, errno.EINVAL},
		{VIRQBind{VIRQ: VIRQDomExc, Vector: 0x51, reserved: [7]byte{1}}, errno.EINVAL},
	} {
		t.Run(fmt.Sprintf("virq%d_vec%d_res%d", tc.b.VIRQ, tc.b.Vector, tc.b.reserved[0]), func(t *testing.T) {
			if err := tc.b.Validate(); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
}

// Whatever a guest passes decodes without panicking, and what Validate
// accepts is a known VIRQ with a usable vector.
func FuzzDecodeVIRQBind(f *testing.F) {
	good := make([]byte, VIRQBindSize)
	VIRQBind{VIRQ: VIRQSerial, Vector: 0x50}.Encode(good)
	f.Add(good)
	f.Add([]byte{3, 0, 0, 0})
	f.Fuzz(func(t *testing.T, buf []byte) {
		b, ok := DecodeVIRQBind(buf)
		if !ok {
			if len(buf) >= VIRQBindSize {
				t.Fatalf("%d bytes refused", len(buf))
			}
			return
		}
		if b.Validate() == nil && (b.VIRQ != VIRQDomExc && b.VIRQ != VIRQSerial || b.Vector != 0 && b.Vector < 32) {
			t.Fatalf("accepted %+v", b)
		}
		out := make([]byte, VIRQBindSize)
		b.Encode(out)
		if string(out) != string(buf[:VIRQBindSize]) {
			t.Fatalf("re-encoding changed %x to %x", buf[:VIRQBindSize], out)
		}
	})
}
