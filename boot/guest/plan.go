package guest

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Plan is where an image, its modules and its start_info go in guest RAM.
// It holds no guest memory itself: the hypervisor, or Apply, carries out
// its Writes.
type Plan struct {
	Entry     uint32   // EIP, 32-bit protected mode, paging off
	StartInfo uint64   // guest-physical address of hvm_start_info or boot_params
	StartReg  StartReg // the register that holds StartInfo at Entry
	MemBytes  uint64
	Memmap    []Region
	Modules   []Module
	Writes    []Write // disjoint, in ascending GPA order
}

// StartReg says which register a boot protocol passes its boot data in;
// every other general register starts zero (but EAX for multiboot).
type StartReg int

const (
	StartEBX       StartReg = iota // PVH: EBX = hvm_start_info
	StartESI                       // Linux 32-bit boot protocol: ESI = boot_params
	StartMultiboot                 // multiboot: EBX = multiboot_info, EAX = MultibootBootMagic
)

// Write puts Data at GPA, then Zero zero bytes right after it. Guest pages
// need not start zeroed, so bss and padding are explicit.
type Write struct {
	GPA  uint64
	Data []byte
	Zero uint64
}

// End is the first address past the write.
func (w Write) End() uint64 { return w.GPA + uint64(len(w.Data)) + w.Zero }

// Region is one memory map entry given to the guest.
type Region struct {
	Base, Size uint64
	Type       uint32 // MemRAM or MemReserved
}

// Module is where a module's bytes go.
type Module struct {
	GPA, Size uint64
}

// NewPlan lays out img in memBytes of guest RAM, with cmdline and modules
// (which the guest finds through start_info's module list).
func NewPlan(img *Image, memBytes uint64, cmdline string, modules [][]byte) (*Plan, error) {
	p, err := plan(img, memBytes, cmdline, modules)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", img.Name, err)
	}
	return p, nil
}

func plan(img *Image, memBytes uint64, cmdline string, modules [][]byte) (*Plan, error) {
	if err := checkArgs(img, cmdline, modules); err != nil {
		return nil, err
	}
	p := &Plan{Entry: img.Entry, StartInfo: StartInfoGPA, MemBytes: memBytes}
	if err := p.placeModules(img, modules); err != nil {
		return nil, err
	}
	p.Memmap = []Region{
		{0, lowRAMEnd, MemRAM},
		{lowRAMEnd, HighRAM - lowRAMEnd, MemReserved},
		{HighRAM, memBytes - HighRAM, MemRAM},
	}
	p.Writes = append(p.Writes, Write{GPA: StartInfoGPA, Data: p.bootData(cmdline)})
	for _, s := range img.Segments {
		p.Writes = append(p.Writes, Write{GPA: s.Paddr, Data: s.FileData, Zero: s.Memsz - uint64(len(s.FileData))})
	}
	for i, m := range p.Modules {
		p.Writes = append(p.Writes, Write{GPA: m.GPA, Data: modules[i]})
	}
	return p, nil
}

func checkArgs(img *Image, cmdline string, modules [][]byte) error {
	if len(cmdline) > MaxCmdline {
		return fmt.Errorf("command line is %d bytes, at most %d", len(cmdline), MaxCmdline)
	}
	if strings.IndexByte(cmdline, 0) >= 0 {
		return fmt.Errorf("command line has a NUL byte, which would end it early")
	}
	if len(modules) > MaxModules {
		return fmt.Errorf("%d modules, at most %d", len(modules), MaxModules)
	}
	if len(img.Segments) == 0 {
		return fmt.Errorf("image has no segments")
	}
	if s := img.Segments[0]; s.Paddr < HighRAM {
		return fmt.Errorf("segment at %#x is below 1 MiB, where the loader keeps boot data", s.Paddr)
	}
	return nil
}

// placeModules puts modules page-aligned above the image and checks that
// everything fits in memBytes, saying how much would.
func (p *Plan) placeModules(img *Image, modules [][]byte) error {
	next, fits := img.End(), img.End() <= p.MemBytes
	for _, m := range modules {
		gpa := addSat(next, pageSize-1) &^ (pageSize - 1)
		p.Modules = append(p.Modules, Module{GPA: gpa, Size: uint64(len(m))})
		next = addSat(gpa, uint64(len(m)))
		fits = fits && next <= p.MemBytes
	}
	if !fits {
		return fmt.Errorf("needs at least %d MiB of guest RAM, has %d MiB%s",
			ceilMiB(next), p.MemBytes>>20, fractionMiB(p.MemBytes))
	}
	return nil
}

// bootData is the page at StartInfoGPA: start_info, module list, memory
// map and command line at their layout.go offsets.
func (p *Plan) bootData(cmdline string) []byte {
	le := binary.LittleEndian
	b := make([]byte, bootDataEnd-StartInfoGPA)
	si := b[:startInfoSize]
	le.PutUint32(si[siMagic:], startInfoMagic)
	le.PutUint32(si[siVersion:], startInfoVersion)
	if len(p.Modules) > 0 {
		le.PutUint32(si[siNrModules:], uint32(len(p.Modules)))
		le.PutUint64(si[siModlistPaddr:], modlistGPA)
	}
	for i, m := range p.Modules {
		e := b[modlistGPA-StartInfoGPA+i*modEntrySize:]
		le.PutUint64(e[0:], m.GPA)
		le.PutUint64(e[8:], m.Size)
	}
	le.PutUint64(si[siMemmapPaddr:], memmapGPA)
	le.PutUint32(si[siMemmapEntries:], uint32(len(p.Memmap)))
	for i, r := range p.Memmap {
		e := b[memmapGPA-StartInfoGPA+i*memmapEntrySize:]
		le.PutUint64(e[0:], r.Base)
		le.PutUint64(e[8:], r.Size)
		le.PutUint32(e[16:], r.Type)
	}
	if cmdline != "" {
		le.PutUint64(si[siCmdlinePaddr:], cmdlineGPA)
		copy(b[cmdlineGPA-StartInfoGPA:], cmdline) // the NUL is already there
	}
	return b
}

// Apply carries out p on mem, which stands for guest RAM from address 0.
func Apply(p *Plan, mem []byte) error {
	for _, w := range p.Writes {
		n := uint64(len(w.Data))
		if w.GPA > uint64(len(mem)) || n > uint64(len(mem))-w.GPA || w.Zero > uint64(len(mem))-w.GPA-n {
			return fmt.Errorf("write [%#x, +%#x) is outside %d bytes of guest RAM", w.GPA, n+w.Zero, len(mem))
		}
		copy(mem[w.GPA:], w.Data)
		clear(mem[w.GPA+n : w.GPA+n+w.Zero])
	}
	return nil
}

// addSat adds without wrapping, so a hostile size cannot fake a fit.
func addSat(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

func ceilMiB(n uint64) uint64 {
	m := n >> 20
	if n&(1<<20-1) != 0 {
		m++
	}
	return m
}

// fractionMiB marks a size that is not whole MiB, so "has 3 MiB" never
// reads as enough when the need is 4.
func fractionMiB(n uint64) string {
	if n&(1<<20-1) != 0 {
		return fmt.Sprintf(" (+%d bytes)", n&(1<<20-1))
	}
	return ""
}
