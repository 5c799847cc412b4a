package hv

import (
	"testing"

	"grove/hv/pc"
	"grove/hv/svm"
	"grove/x86"
)

// TestFastHLT: a HLT while the offered interrupt is pending is answered by
// the fast path for Grove's own guests (they take the interrupt through
// V_IRQ either way) and left to Go for PC-platform guests, which get it
// through EVENTINJ: QEMU notices an offer made by VMRUN only late, after
// the guest ran on past the HLT (kvm-unit-tests' ioapic "sti; hlt; cli").
func TestFastHLT(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pc, want bool
	}{{"pvh", false, true}, {"pc-platform", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			v := fastVCPU(t, tc.pc, 1, 0)
			if tc.pc {
				bus, err := pc.NewBus(1, testClock{}, func(int) {})
				if err != nil {
					t.Fatal(err)
				}
				v.lapic = bus.LAPIC(0)
				v.setupFast()
			}
			v.fast.Entry(true, false)
			taken := fastStep(v, svm.ExitHLT, 0, func(m svm.VMCB) {
				m.Set(0x570, x86.RFLAGSMBS|x86.RFLAGSIF)
				m.SetVIRQ(true, 0x30)
			})
			if taken != tc.want {
				t.Fatalf("fast path took the HLT: %v, want %v", taken, tc.want)
			}
		})
	}
}
