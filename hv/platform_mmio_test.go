package hv

import (
	"testing"

	"grove/hv/npt"
	"grove/hv/pc"
	"grove/hv/svm"
)

// tableArena is host memory standing in for nested page table pages.
type tableArena struct {
	pages map[uint64]*[512]uint64
	next  uint64
}

func (a *tableArena) AllocTable() (uint64, error) {
	a.next += 0x1000
	a.pages[a.next] = new([512]uint64)
	return a.next, nil
}
func (a *tableArena) Table(pa uint64) *[512]uint64 { return a.pages[pa] }
func (a *tableArena) FreeTable(pa uint64)          { delete(a.pages, pa) }

// Unmodelled MMIO becomes memory (platform_mmio.go): a PC guest's read
// above its RAM maps the empty region onto the all-ones page and runs
// again; a write there faults as present and is dropped; a region with a
// device is mapped page by page around it, and the APIC's page never.
func TestUnmodelledMMIOMapped(t *testing.T) {
	const ones = 0x4000_0000
	old := onesPage
	onesPage = func() uint64 { return ones }
	t.Cleanup(func() { onesPage = old })

	v, m := fakeVCPU(t, false)
	tab, err := npt.New(&tableArena{pages: map[uint64]*[512]uint64{}, next: 0x100000})
	if err != nil {
		t.Fatal(err)
	}
	v.dom.pc, v.dom.ram = &platform{}, &guestRAM{size: 16 << 20, npt: tab}
	if err := v.dom.bus.register(SpaceMMIO, 0xfec00000, 0x1000, "ioapic", &recorder{}); err != nil {
		t.Fatal(err)
	}
	copy(m.b[0x2000:], []byte{0x89, 0x00}) // mov [rax], eax
	npf := func(gpa, errCode uint64) (outcome, uint64) {
		x := exitState{code: svm.ExitNPF, info1: errCode, info2: gpa, rip: 0x2000, mode: 64}
		out := handleExit(v, &x)
		return out, x.rip
	}
	translate := func(gpa uint64) int64 {
		hpa, ok := tab.Translate(gpa)
		if !ok {
			return -1
		}
		return int64(hpa)
	}

	// A read of an empty region: mapped whole, the access runs again.
	if out, rip := npf(0xd0001234, 0x4); out != resume || rip != 0x2000 {
		t.Fatalf("read: outcome %v rip %#x, want resume at the same instruction", out, rip)
	}
	for _, gpa := range []uint64{0xd0000000, 0xd0001234, 0xd01fffff} {
		if got := translate(gpa); got != ones+int64(gpa-0xd0000000) {
			t.Errorf("gpa %#x translates to %#x, want the all-ones page", gpa, got)
		}
	}
	if translate(0xd0200000) != -1 {
		t.Error("the next region was mapped too")
	}
	// A write there: present, read-only: emulated and dropped.
	if out, rip := npf(0xd0000010, 0x7); out != resume || rip != 0x2002 {
		t.Fatalf("write: outcome %v rip %#x, want the store skipped", out, rip)
	}
	if n := v.dom.bus.unknown.Load(); n != 2 {
		t.Errorf("unmodelled count %d, want 2 (the region's first read, the write)", n)
	}

	// The I/O APIC's region: the faulting page only; the device's never.
	if out, rip := npf(0xfec01008, 0x4); out != resume || rip != 0x2000 {
		t.Fatalf("read beside the I/O APIC: outcome %v rip %#x", out, rip)
	}
	if translate(0xfec01008) != ones+8 || translate(0xfec02000) != -1 || translate(0xfec00000) != -1 {
		t.Errorf("beside the I/O APIC: %#x %#x %#x", translate(0xfec01008), translate(0xfec02000), translate(0xfec00000))
	}
	// The APIC page (this vCPU has no local APIC, so the fault comes
	// here): emulated, never mapped; the page after it is.
	if out, rip := npf(pc.Base+0x30, 0x6); out != resume || rip != 0x2002 || translate(pc.Base) != -1 {
		t.Fatalf("APIC page: outcome %v rip %#x, mapped %v", out, rip, translate(pc.Base) != -1)
	}
	if out, _ := npf(pc.Base+0x1000, 0x4); out != resume || translate(pc.Base+0x1000) != ones {
		t.Errorf("the page after the APIC's was not mapped")
	}
	// Without the all-ones page (host memory, as in the host's tests) each
	// access is emulated, as before.
	onesPage = func() uint64 { return 0 }
	if out, rip := npf(0xe0000000, 0x4); out != resume || rip != 0x2002 || translate(0xe0000000) != -1 {
		t.Errorf("no all-ones page: outcome %v rip %#x", out, rip)
	}
}
