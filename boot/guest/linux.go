package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Linux guests boot from a bzImage through the Linux x86 32-bit boot
// protocol (Documentation/arch/x86/boot.rst, "32-bit Boot Protocol"; the
// zero page is Documentation/arch/x86/zero-page.rst). This file reads the
// setup header, checks what Grove relies on and keeps the pieces the plan
// needs (linuxplan.go).
//
// Why not u-root's pkg/boot/bzimage, which reads the same header: it
// imports its decompressors, zstd among them imports crypto/rand, and Go
// then links a 32 MiB FIPS entropy buffer (crypto/internal/fips140/drbg's
// memory) into the hypervisor's .bss; the image grew from 0.5 to 39 MiB
// and, loaded by GRUB under OVMF, overlapped the firmware's ACPI NVS at 8
// MiB. The host side keeps u-root: TestSetupHeaderMatchesURoot and
// FuzzSetupHeader check this reader field by field against u-root's
// LinuxHeader, on Debian's kernel and on fuzzed bytes.

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
	Header SetupHeader
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

func parseLinux(data []byte) (*LinuxImage, error) {
	if !IsBzImage(data) {
		return nil, errors.New(`not a bzImage (no "HdrS" setup header magic at 0x202)`)
	}
	if len(data) < hdrMaxEnd {
		return nil, fmt.Errorf("bzImage setup header cut short (%d bytes)", len(data))
	}
	h := readSetupHeader(data)
	if err := checkHeader32(&h); err != nil {
		return nil, err
	}
	kernelOff := (uint64(h.SetupSects) + 1) * 512
	if err := checkPayload(&h, data, kernelOff); err != nil {
		return nil, err
	}
	size := uint64(h.Syssize) * 16
	if size > uint64(len(data))-kernelOff {
		return nil, fmt.Errorf("protected-mode kernel (syssize %#x paragraphs) runs past the end of the %d-byte image", h.Syssize, len(data))
	}
	hdrEnd := min(uint64(hdrMagicOff)+uint64(data[hdrJumpOff+1]), hdrMaxEnd)
	return &LinuxImage{Header: h, Setup: data[hdrStart:hdrEnd], Kernel: data[kernelOff : kernelOff+size]}, nil
}

// SetupHeader holds the fields of a bzImage's setup header that Grove
// uses, named as u-root's LinuxHeader names them; the offsets are boot.rst's.
type SetupHeader struct {
	SetupSects        uint8  // 0x1f1
	Syssize           uint32 // 0x1f4, 16-byte paragraphs
	Protocolversion   uint16 // 0x206
	Loadflags         uint8  // 0x211
	Code32Start       uint32 // 0x214
	InitrdAddrMax     uint32 // 0x22c (2.03+)
	Kernelalignment   uint32 // 0x230 (2.05+)
	RelocatableKernel uint8  // 0x234 (2.05+)
	CmdLineSize       uint32 // 0x238 (2.06+)
	PayloadOffset     uint32 // 0x248 (2.08+)
	PayloadSize       uint32 // 0x24c (2.08+)
	PrefAddress       uint64 // 0x258 (2.10+)
	InitSize          uint32 // 0x260 (2.10+)
}

// readSetupHeader decodes the header; data holds at least hdrMaxEnd bytes.
func readSetupHeader(data []byte) SetupHeader {
	le := binary.LittleEndian
	return SetupHeader{
		SetupSects: data[0x1f1], Syssize: le.Uint32(data[0x1f4:]),
		Protocolversion: le.Uint16(data[0x206:]), Loadflags: data[0x211],
		Code32Start: le.Uint32(data[0x214:]), InitrdAddrMax: le.Uint32(data[0x22c:]),
		Kernelalignment: le.Uint32(data[0x230:]), RelocatableKernel: data[0x234],
		CmdLineSize: le.Uint32(data[0x238:]), PayloadOffset: le.Uint32(data[0x248:]),
		PayloadSize: le.Uint32(data[0x24c:]), PrefAddress: le.Uint64(data[0x258:]),
		InitSize: le.Uint32(data[0x260:]),
	}
}

// checkHeader32 refuses what the 32-bit protocol at Grove's addresses
// cannot load: an old protocol, a zImage (loaded low), an entry not at the
// load address the kernel asks for.
func checkHeader32(h *SetupHeader) error {
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

// checkPayload makes sure the header's compressed payload lies inside the
// file: a kernel whose header points past its end is damaged.
func checkPayload(h *SetupHeader, data []byte, kernelOff uint64) error {
	n := uint64(len(data))
	end := kernelOff + uint64(h.PayloadOffset) + uint64(h.PayloadSize)
	if kernelOff > n || end > n {
		return fmt.Errorf("payload [%#x, +%#x) after %d setup sectors runs past the end of the %d-byte image",
			h.PayloadOffset, h.PayloadSize, h.SetupSects, n)
	}
	if h.PayloadSize < 16 {
		return fmt.Errorf("payload is %d bytes: too short for a compressed kernel", h.PayloadSize)
	}
	start := kernelOff + uint64(h.PayloadOffset)
	for _, m := range payloadMagics {
		if bytes.HasPrefix(data[start:], m) {
			return nil
		}
	}
	return fmt.Errorf("payload starts % x: not gzip, bzip2, LZMA, XZ, LZO, LZ4 or zstd, the formats Linux compresses with", data[start:start+4])
}

// payloadMagics open the compressed kernel in each format Linux builds
// (the KERNEL_* choices of arch/x86/boot/compressed).
var payloadMagics = [][]byte{
	{0x1f, 0x8b},                     // gzip
	[]byte("BZh"),                    // bzip2
	{0x5d, 0x00, 0x00},               // LZMA
	{0xfd, '7', 'z', 'X', 'Z', 0x00}, // XZ
	{0x89, 'L', 'Z', 'O'},            // LZO
	{0x02, 0x21, 0x4c, 0x18},         // LZ4 (legacy frame)
	{0x28, 0xb5, 0x2f, 0xfd},         // zstd
}

func protoString(v uint16) string { return fmt.Sprintf("%d.%02d", v>>8, v&0xff) }

// loadflags bits (boot.rst).
const (
	loadedHigh    = 1 << 0 // protected-mode code loaded at 0x100000
	canUseHeap    = 1 << 7 // heap_end_ptr is valid
	linuxLoadAddr = 0x100000
)
