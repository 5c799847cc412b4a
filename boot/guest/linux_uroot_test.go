package guest

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/u-root/u-root/pkg/boot/bzimage"

	gt "grove/boot/guest/guesttest"
)

// The image reads the setup header itself (linux.go says why); u-root's
// LinuxHeader is the reference it must agree with, field by field.

// uRootHeader decodes data's first bytes as u-root does.
func uRootHeader(t *testing.T, data []byte) (bzimage.LinuxHeader, bool) {
	var h bzimage.LinuxHeader
	err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &h)
	return h, err == nil
}

// sameHeader compares every field Grove reads with u-root's.
func sameHeader(t *testing.T, ours SetupHeader, u bzimage.LinuxHeader) {
	t.Helper()
	want := SetupHeader{SetupSects: u.SetupSects, Syssize: u.Syssize, Protocolversion: u.Protocolversion,
		Loadflags: u.Loadflags, Code32Start: u.Code32Start, InitrdAddrMax: u.InitrdAddrMax,
		Kernelalignment: u.Kernelalignment, RelocatableKernel: u.RelocatableKernel, CmdLineSize: u.CmdLineSize,
		PayloadOffset: u.PayloadOffset, PayloadSize: u.PayloadSize, PrefAddress: u.PrefAddress, InitSize: u.InitSize}
	if ours != want {
		t.Fatalf("setup header differs from u-root's:\n ours   %+v\n u-root %+v", ours, want)
	}
}

func TestSetupHeaderMatchesURoot(t *testing.T) {
	images := map[string][]byte{"synthetic": gt.BzImage()}
	if b, err := os.ReadFile(filepath.Join("..", "..", "out", "linux", "vmlinuz")); err == nil {
		images["debian"] = b
	} else {
		t.Logf("no Debian kernel (%v): `make linux` fetches it; checking the synthetic image only", err)
	}
	for name, data := range images {
		t.Run(name, func(t *testing.T) {
			u, ok := uRootHeader(t, data)
			if !ok {
				t.Fatal("u-root cannot read the header")
			}
			sameHeader(t, readSetupHeader(data), u)
			// u-root's full parser (without decompressing) accepts what
			// Grove accepts.
			if _, err := ParseLinux(name, data); err == nil {
				c := append([]byte(nil), data...)
				c[0], c[1] = 0, 0 // no "MZ": u-root would log about the EFI stub
				if err := (&bzimage.BzImage{NoDecompress: true}).UnmarshalBinary(c); err != nil {
					t.Errorf("Grove accepts the image, u-root refuses it: %v", err)
				}
			}
		})
	}
}

// FuzzSetupHeader: on any bytes long enough for a header, Grove's reader
// and u-root's agree.
func FuzzSetupHeader(f *testing.F) {
	f.Add(gt.BzImage()[:hdrMaxEnd])
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < hdrMaxEnd {
			return
		}
		if u, ok := uRootHeader(t, data); ok {
			sameHeader(t, readSetupHeader(data), u)
		}
	})
}
