package pc

import (
	"fmt"
	"testing"
)

func TestPOST(t *testing.T) {
	l := NewLegacyPorts(nil)
	for _, c := range []uint8{0x12, 0x34, 0x55} {
		l.POST.Write(0, 1, uint64(c))
	}
	if n, last := l.POST.Codes(); n != 3 || last != 0x55 {
		t.Errorf("codes %d last %#x", n, last)
	}
	if v := l.POST.Read(0, 1); v != 0xff {
		t.Errorf("read %#x, want all ones", v)
	}
}

func TestPort92(t *testing.T) {
	resets := 0
	l := NewLegacyPorts(func() { resets++ })
	l.Port92.Write(0, 1, 0x00) // A20 off: still on
	if v := l.Port92.Read(0, 1); v != port92A20 {
		t.Errorf("port 92 reads %#x, want A20 set", v)
	}
	l.Port92.Write(0, 1, port92A20|port92InitNow)
	if resets != 1 {
		t.Errorf("INIT_NOW made %d resets", resets)
	}
}

// TestLinuxPCIProbe replays pci_check_type1 and the data reads of its bus
// 0 scan (Linux 6.1 arch/x86/pci/direct.c): mechanism #1 is there, every
// function is absent; and pci_check_type2 must fail.
func TestLinuxPCIProbe(t *testing.T) {
	p := NewLegacyPorts(nil).PCI
	p.Write(3, 1, 0x01) // outb(0x01, 0xCFB)
	tmp := p.Read(0, 4)
	p.Write(0, 4, 0x80000000)
	if v := p.Read(0, 4); v != 0x80000000 {
		t.Fatalf("CONFIG_ADDRESS reads %#x, want 0x80000000", v)
	}
	p.Write(0, 4, tmp)
	for devfn := uint32(0); devfn < 256; devfn++ {
		for _, reg := range []uint32{0x00, 0x0a} {
			p.Write(0, 4, uint64(0x80000000|devfn<<8|reg&^3))
			if v := p.Read(4+uint64(reg&3), 2); v != 0xffff {
				t.Fatalf("devfn %#x reg %#x reads %#x", devfn, reg, v)
			}
		}
	}
	p.Write(3, 1, 0) // type 2: CSE and forward registers
	p.Write(0, 1, 0)
	p.Write(2, 1, 0)
	if p.Read(0, 1) == 0 && p.Read(2, 1) == 0 {
		t.Fatal("configuration mechanism #2 looks present")
	}
}

// TestRstCnt replays Linux's BOOT_CF9 reset: SYS_RST first, then RST_CPU.
func TestRstCnt(t *testing.T) {
	resets := 0
	p := NewLegacyPorts(func() { resets++ }).PCI
	cf9 := uint8(p.Read(pciRstCnt, 1)) &^ 0x0e
	p.Write(pciRstCnt, 1, uint64(cf9|0x02))
	if resets != 0 || p.Read(pciRstCnt, 1) != 0x02 {
		t.Fatalf("SYS_RST alone: %d resets, RST_CNT %#x", resets, p.Read(pciRstCnt, 1))
	}
	p.Write(pciRstCnt, 1, uint64(cf9|0x0e))
	if resets != 1 {
		t.Fatalf("RST_CPU made %d resets", resets)
	}
}

func TestELCR(t *testing.T) {
	tests := []struct {
		val  uint16
		irq  int
		want bool
	}{
		{0xffff, 0, false}, {0xffff, 2, false}, {0xffff, 3, true}, {0xffff, 8, false},
		{0xffff, 9, true}, {0xffff, 13, false}, {0x0200, 9, true}, {0x0200, 10, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%#x/IRQ%d", tc.val, tc.irq), func(t *testing.T) {
			e := NewLegacyPorts(nil).ELCR
			e.Write(0, 2, uint64(tc.val))
			if got := e.Level(tc.irq); got != tc.want {
				t.Errorf("level %v, want %v (ELCR %#x)", got, tc.want, e.Read(0, 2))
			}
		})
	}
}

// FuzzLegacyPorts: nothing the guest writes makes a PCI function appear
// or resets without RST_CPU or INIT_NOW.
func FuzzLegacyPorts(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0, 0, 0x80, 4, 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		resets := 0
		l := NewLegacyPorts(func() { resets++ })
		want := 0
		for i := 0; i+4 < len(ops); i += 5 {
			off, size := uint64(ops[i]&7), 1<<(ops[i]>>3&3)
			val := uint64(ops[i+1]) | uint64(ops[i+2])<<8 | uint64(ops[i+3])<<16 | uint64(ops[i+4])<<24
			if ops[i]&0x20 != 0 {
				l.Port92.Write(0, size, val)
				if val&1 != 0 {
					want++
				}
				continue
			}
			l.PCI.Write(off, size, val)
			if off == pciRstCnt && size == 1 && val&rstCntRstCPU != 0 {
				want++
			}
			if v := l.PCI.Read(4+off%4, 1); v != 0xff {
				t.Fatalf("CONFIG_DATA reads %#x", v)
			}
		}
		if resets != want {
			t.Fatalf("%d resets, want %d", resets, want)
		}
	})
}

// Linux's keyboard-controller reboot: wait for the input buffer to empty
// (it always is), then command 0xFE resets; other commands do nothing.
func TestKBCReset(t *testing.T) {
	resets := 0
	l := NewLegacyPorts(func() { resets++ })
	if st := l.KBC.Read(0, 1); st&0x02 != 0 || st&kbcStatusSys == 0 {
		t.Errorf("status %#x: input buffer full or self-test not passed", st)
	}
	l.KBC.Write(0, 1, 0xd1) // write output port: not modelled
	if resets != 0 {
		t.Fatalf("command 0xd1 reset the machine")
	}
	l.KBC.Write(0, 1, kbcPulseReset)
	if resets != 1 {
		t.Errorf("command 0xFE: %d resets, want 1", resets)
	}
	if r := l.Ranges(); r[len(r)-1].Base != KBCPort {
		t.Errorf("the ranges do not claim port %#x", KBCPort)
	}
}
