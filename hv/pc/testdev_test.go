package pc

import (
	"fmt"
	"testing"
)

// TestTestDevData replays kvm-unit-tests' realmode I/O tests: the value
// written to 0xe0 in each width reads back in that width, byte lanes by
// port.
func TestTestDevData(t *testing.T) {
	d := NewTestDev(func(int) IRQ { return NoIRQ })
	data := d.Ranges()[0].Dev
	for _, tc := range []struct {
		size int
		val  uint64
	}{{1, 0xef}, {2, 0xbeef}, {4, 0xdeadbeef}} {
		t.Run(fmt.Sprintf("size%d", tc.size), func(t *testing.T) {
			data.Write(0, tc.size, tc.val)
			if v := data.Read(0, tc.size); v != tc.val {
				t.Errorf("read %#x, want %#x", v, tc.val)
			}
		})
	}
	data.Write(1, 1, 0x11)
	if v := data.Read(0, 4); v != 0xdead11ef || d.Data() != 0xdead11ef {
		t.Errorf("after a byte write at 0xe1 the register is %#x, want 0xdead11ef", v)
	}
	if v := data.Read(2, 4); v != 0xffffdead {
		t.Errorf("read past the register %#x, want its high half then ones", v)
	}
}

// TestTestDevIRQ replays ioapic's toggle_irq_line(0x0e): a byte write of
// 1 then 0 to port 0x200e raises and lowers line 14 only.
func TestTestDevIRQ(t *testing.T) {
	var lines [IOAPICPins]lineLog
	d := NewTestDev(func(n int) IRQ { return &lines[n] })
	irq := d.Ranges()[2].Dev
	irq.Write(0x0e, 1, 1)
	irq.Write(0x0e, 1, 0)
	irq.Write(0x0f, 1, 0x100) // the low byte is 0: low
	irq.Write(0x0f, 2, 1)     // not a byte write: ignored
	irq.Write(24, 1, 1)       // past the lines (ignored; the range is 24 ports)
	for n := range lines {
		high, rises := lines[n].state()
		want := 0
		if n == 0x0e {
			want = 1
		}
		if high || rises != want {
			t.Errorf("line %d: high=%v rises=%d, want low with %d rises", n, high, rises, want)
		}
	}
	if v := irq.Read(0x0e, 1); v != 0 {
		t.Errorf("irq port reads %#x, want 0", v)
	}
}
