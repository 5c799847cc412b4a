package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/u-root/u-root/pkg/boot/bzimage"
)

// Linux guests boot from a bzImage through the Linux x86 32-bit boot
// protocol (Documentation/arch/x86/boot.rst, "32-bit Boot Protocol"; the
// zero page is Documentation/arch/x86/zero-page.rst). u-root's
// pkg/boot/bzimage reads the image; this file checks what Grove relies on
// and keeps the pieces the plan needs (linuxplan.go).

// MinLinuxProtocol is the oldest boot protocol Grove loads: 2.10 (Linux
// 2.6.31) is the first whose header has init_size and pref_address, without
// which the memory a kernel needs to decompress is unknown.
const MinLinuxProtocol = 0x020a

// Setup header fields (boot.rst, "The real-mode kernel header").
const (
	hdrMagicOff = 0x202 // "HdrS"
	hdrJumpOff  = 0x200 // the jump whose second byte gives the header's end
	hdrStart    = 0x1f1 // setup_sects: the header starts here in file and zero page
	hdrMaxEnd   = 0x290 // edd_mbr_sig_buffer: no header reaches past it
)

// IsBzImage says whether data carries the setup header's magic "HdrS" at
// 0x202: Grove loads such an image as Linux and anything else as PVH.
func IsBzImage(data []byte) bool {
	return len(data) >= hdrMagicOff+4 && string(data[hdrMagicOff:hdrMagicOff+4]) == "HdrS"
}

// LinuxImage is a checked bzImage.
type LinuxImage struct {
	Name   string
	Header bzimage.LinuxHeader
	// Setup is the setup header as the image has it, from 0x1f1 to its
	// end; it goes into the zero page at the same offset.
	Setup []byte
	// Kernel is the protected-mode kernel: the syssize*16 bytes after the
	// setup sectors, loaded at Header.Code32Start. A slice of the image.
	Kernel []byte
}

// ParseLinux checks data as a bzImage called name (used in errors).
func ParseLinux(name string, data []byte) (*LinuxImage, error) {
	img, err := parseLinux(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	img.Name = name
	return img, nil
}

func parseLinux(data []byte) (img *LinuxImage, err error) {
	// u-root's parser indexes slices by header fields; on hostile bytes a
	// panic must become a refusal, not a hypervisor crash.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("malformed bzImage (%v)", r)
		}
	}()
	if !IsBzImage(data) {
		return nil, errors.New(`not a bzImage (no "HdrS" setup header magic at 0x202)`)
	}
	var h bzimage.LinuxHeader
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &h); err != nil {
		return nil, fmt.Errorf("bzImage setup header cut short (%d bytes)", len(data))
	}
	if err := checkHeader32(&h); err != nil {
		return nil, err
	}
	kernelOff := (uint64(h.SetupSects) + 1) * 512
	if err := checkPayload(&h, kernelOff, uint64(len(data))); err != nil {
		return nil, err
	}
	if err := uRootCheck(data, kernelOff, &h); err != nil {
		return nil, err
	}
	size := uint64(h.Syssize) * 16
	if size > uint64(len(data))-kernelOff {
		return nil, fmt.Errorf("protected-mode kernel (syssize %#x paragraphs) runs past the end of the %d-byte image", h.Syssize, len(data))
	}
	hdrEnd := min(uint64(hdrMagicOff)+uint64(data[hdrJumpOff+1]), hdrMaxEnd)
	return &LinuxImage{Header: h, Setup: data[hdrStart:hdrEnd], Kernel: data[kernelOff : kernelOff+size]}, nil
}

// checkHeader32 refuses what the 32-bit protocol at Grove's addresses
// cannot load: an old protocol, a zImage (loaded low), an entry not at the
// load address the kernel asks for.
func checkHeader32(h *bzimage.LinuxHeader) error {
	if h.Protocolversion < MinLinuxProtocol {
		return fmt.Errorf("boot protocol %s is too old: Grove needs %s or later (Linux 2.6.31, for init_size)",
			protoString(h.Protocolversion), protoString(MinLinuxProtocol))
	}
	if h.Loadflags&loadedHigh == 0 {
		return errors.New("a zImage (LOADED_HIGH clear): Grove loads only bzImages, at 1 MiB")
	}
	if h.SetupSects == 0 {
		h.SetupSects = 4 // boot.rst: 0 means 4
	}
	if h.Code32Start != linuxLoadAddr {
		return fmt.Errorf("code32_start is %#x: Grove loads the kernel at %#x", h.Code32Start, linuxLoadAddr)
	}
	if h.InitSize == 0 {
		return errors.New("init_size is 0: the memory the kernel needs is unknown")
	}
	return nil
}

// checkPayload makes sure the header's payload lies inside the file before
// u-root allocates by it (it makes buffers of payload_offset and
// payload_length bytes).
func checkPayload(h *bzimage.LinuxHeader, kernelOff, n uint64) error {
	end := kernelOff + uint64(h.PayloadOffset) + uint64(h.PayloadSize)
	if kernelOff > n || end > n {
		return fmt.Errorf("payload [%#x, +%#x) after %d setup sectors runs past the end of the %d-byte image",
			h.PayloadOffset, h.PayloadSize, h.SetupSects, n)
	}
	if h.PayloadSize < 16 {
		return fmt.Errorf("payload is %d bytes: too short for a compressed kernel", h.PayloadSize)
	}
	return nil
}

// uRootCheck runs u-root's parser over the image without decompressing:
// it knows the payload's compression formats and the image layout. The
// copy it parses has the EFI stub's "MZ" cleared: otherwise u-root logs a
// warning for every signed kernel (Debian's are), which would reach Grove's
// console. Grove boots the kernel without EFI, so those bytes are unused.
func uRootCheck(data []byte, kernelOff uint64, h *bzimage.LinuxHeader) error {
	end := kernelOff + uint64(h.PayloadOffset) + uint64(h.PayloadSize) + 4 // + the CRC
	c := make([]byte, min(end, uint64(len(data))))
	copy(c, data)
	c[0], c[1] = 0, 0
	b := bzimage.BzImage{NoDecompress: true}
	if err := b.UnmarshalBinary(c); err != nil {
		return fmt.Errorf("bzImage: %w", err)
	}
	return nil
}

func protoString(v uint16) string { return fmt.Sprintf("%d.%02d", v>>8, v&0xff) }

// loadflags bits (boot.rst).
const (
	loadedHigh    = 1 << 0 // protected-mode code loaded at 0x100000
	canUseHeap    = 1 << 7 // heap_end_ptr is valid
	linuxLoadAddr = 0x100000
)
