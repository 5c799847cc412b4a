package acpi

import "testing"

// The boot path runs before the Go runtime: FindRSDP, FindTable and
// ParseMADT must not allocate, on success or on any error path.
func TestNoAllocation(t *testing.T) {
	b := qemuShape(MaxCPUs + 3)
	b.FADT = &FADT{}
	good, lay := build(t, b)
	bad, badLay := build(t, b)
	at(t, bad, badLay.MADT+madtEntriesOff, 1)[0]++
	var sink Topology
	cases := []struct {
		name string
		f    func()
	}{
		{"FindRSDP hint", func() { _, _ = FindRSDP(good, lay.RSDP) }},
		{"FindRSDP scan miss", func() { _, _ = FindRSDP(good, 0) }},
		{"FindTable FACP", func() {
			r, _ := FindRSDP(good, lay.RSDP)
			_, _ = FindTable(good, r, [4]byte{'F', 'A', 'C', 'P'}, 0)
		}},
		{"ParseMADT checksum bad", func() {
			r, _ := FindRSDP(bad, badLay.RSDP)
			_ = ParseMADTInto(bad, r, &sink)
		}},
		{"ParseMADT", func() {
			r, _ := FindRSDP(good, lay.RSDP)
			sink, _ = ParseMADT(good, r)
		}},
		{"ParseMADTInto", func() {
			r, _ := FindRSDP(good, lay.RSDP)
			_ = ParseMADTInto(good, r, &sink)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tc.f); n != 0 {
				t.Errorf("%v allocations per run", n)
			}
		})
	}
	if sink.NumCPUs != MaxCPUs || sink.DroppedCPUs != 3 {
		t.Errorf("sink %d CPUs %d dropped", sink.NumCPUs, sink.DroppedCPUs)
	}
}
