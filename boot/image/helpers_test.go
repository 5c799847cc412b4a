package image

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// Symbols of testdata/bootprobe and of miniELF.
var probeOpts = Options{Entry: "main.entry64", PageTables: "main.bootPageTables"}

var probe struct {
	once sync.Once
	dir  string
	elf  []byte
	err  error
	log  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if probe.dir != "" {
		os.RemoveAll(probe.dir)
	}
	os.Exit(code)
}

// buildProbe links testdata/bootprobe the way Grove's kernel is linked,
// once per test binary, and returns its path and bytes.
func buildProbe(t testing.TB) (string, []byte) {
	t.Helper()
	probe.once.Do(func() {
		if probe.dir, probe.err = os.MkdirTemp("", "groveimg-probe"); probe.err != nil {
			return
		}
		src, _ := filepath.Abs("testdata/bootprobe")
		out := filepath.Join(probe.dir, "probe.elf")
		cmd := exec.Command("go", "build", "-ldflags=-T 0x200000 -R 0x1000", "-o", out, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOWORK=off", "GOFLAGS=")
		if probe.log, probe.err = cmd.CombinedOutput(); probe.err == nil {
			probe.elf, probe.err = os.ReadFile(out)
		}
	})
	if probe.err != nil {
		t.Fatalf("building testdata/bootprobe: %v\n%s", probe.err, probe.log)
	}
	return filepath.Join(probe.dir, "probe.elf"), probe.elf
}

// miniSpec shapes a synthetic Go-like ELF small enough to fuzz.
type miniSpec struct {
	entry, pt string
	ptSize    uint64
}

var defaultMini = miniSpec{"main.entry64.abi0", "main.bootPageTables", 8 * 4096}

// Offsets of the synthetic ELF's parts, for tests that corrupt them.
const (
	miniPhoff  = 0x40
	miniShoff  = 0x100
	miniText   = 0x1000
	miniData   = 0x2000
	miniBSSVA  = 0x201010
	miniSymtab = 0x2010
)

// miniELF builds an ELF64 x86-64 EXEC laid out like a Go binary linked with
// -T 0x200000 -R 0x1000: headers, zero padding, .text at 0x200000, then a
// data segment whose BSS holds the page-table symbol.
func miniELF(s miniSpec) []byte {
	le := binary.LittleEndian
	strtab := "\x00" + s.entry + "\x00" + s.pt + "\x00"
	shstr := "\x00.text\x00.data\x00.bss\x00.symtab\x00.strtab\x00.shstrtab\x00"
	strOff := miniSymtab + 3*24
	shstrOff := strOff + len(strtab)
	b := make([]byte, shstrOff+len(shstr))
	copy(b, "\x7fELF\x02\x01\x01")
	le.PutUint16(b[0x10:], 2)  // ET_EXEC
	le.PutUint16(b[0x12:], 62) // EM_X86_64
	le.PutUint32(b[0x14:], 1)
	le.PutUint64(b[0x18:], 0x200000)
	le.PutUint64(b[0x20:], miniPhoff)
	le.PutUint64(b[0x28:], miniShoff)
	le.PutUint16(b[0x34:], 64)
	le.PutUint16(b[0x36:], 56)
	le.PutUint16(b[0x38:], 3)
	le.PutUint16(b[0x3a:], 64)
	le.PutUint16(b[0x3c:], 7)
	le.PutUint16(b[0x3e:], 6)
	ph := func(i int, typ, flags uint32, off, va, filesz, memsz, align uint64) {
		p := b[miniPhoff+56*i:]
		le.PutUint32(p, typ)
		le.PutUint32(p[4:], flags)
		for j, v := range []uint64{off, va, va, filesz, memsz, align} {
			le.PutUint64(p[8+8*j:], v)
		}
	}
	ph(0, 1, 5, 0, 0x1ff000, miniText+0x10, miniText+0x10, 0x1000)
	ph(1, 1, 6, miniData, 0x201000, 0x10, 0x10+0x9000, 0x1000)
	ph(2, 0x6474e551, 6, 0, 0, 0, 0, 8) // PT_GNU_STACK
	sh := func(i int, name, typ uint32, flags, addr, off, size uint64, link, info uint32, entsize uint64) {
		p := b[miniShoff+64*i:]
		le.PutUint32(p, name)
		le.PutUint32(p[4:], typ)
		for j, v := range []uint64{flags, addr, off, size} {
			le.PutUint64(p[8+8*j:], v)
		}
		le.PutUint32(p[40:], link)
		le.PutUint32(p[44:], info)
		le.PutUint64(p[48:], 1)
		le.PutUint64(p[56:], entsize)
	}
	sh(1, 1, 1, 6, 0x200000, miniText, 0x10, 0, 0, 0)          // .text
	sh(2, 7, 1, 3, 0x201000, miniData, 0x10, 0, 0, 0)          // .data
	sh(3, 13, 8, 3, miniBSSVA, miniData+0x10, 0x9000, 0, 0, 0) // .bss
	sh(4, 18, 2, 0, 0, miniSymtab, 3*24, 5, 1, 24)             // .symtab
	sh(5, 26, 3, 0, 0, uint64(strOff), uint64(len(strtab)), 0, 0, 0)
	sh(6, 34, 3, 0, 0, uint64(shstrOff), uint64(len(shstr)), 0, 0, 0)
	sym := func(i int, name uint32, info byte, shndx uint16, value, size uint64) {
		p := b[miniSymtab+24*i:]
		le.PutUint32(p, name)
		p[4] = info
		le.PutUint16(p[6:], shndx)
		le.PutUint64(p[8:], value)
		le.PutUint64(p[16:], size)
	}
	sym(1, 1, 0x12, 1, 0x200000, 0x10)                           // FUNC
	sym(2, uint32(2+len(s.entry)), 0x11, 3, miniBSSVA, s.ptSize) // OBJECT
	copy(b[miniText:], []byte{0xF4, 0xEB, 0xFD})                 // hlt; jmp .-1
	copy(b[strOff:], strtab)
	copy(b[shstrOff:], shstr)
	return b
}

// strconvQuote quotes b as the fuzz corpus format expects.
func strconvQuote(b []byte) string { return strconv.Quote(string(b)) }
