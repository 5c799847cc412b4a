package hv

import (
	"fmt"
	"strings"
	"testing"

	"grove/hv/abi"
	"grove/hv/svm"
)

// recorder is a device that remembers its last access.
type recorder struct {
	off  uint64
	size int
	val  uint64
}

func (r *recorder) Read(off uint64, size int) uint64 {
	r.off, r.size = off, size
	return 0xabcd0000 | off
}

func (r *recorder) Write(off uint64, size int, val uint64) { r.off, r.size, r.val = off, size, val }

func TestBusRefusesOverlaps(t *testing.T) {
	for _, tc := range []struct {
		name       string
		space      Space
		base, size uint64
		wantErr    string // "" = accepted
	}{
		{"below", SpacePort, 0x3f0, 8, ""},
		{"touching-below", SpacePort, 0x3f0, 0x10, ""},
		{"overlap-start", SpacePort, 0x3f0, 0x11, "device new: port range 0x3f0-0x400 overlaps uart's 0x400-0x407"},
		{"inside", SpacePort, 0x402, 1, "overlaps uart's"},
		{"covering", SpacePort, 0x300, 0x200, "overlaps uart's"},
		{"overlap-end", SpacePort, 0x407, 2, "overlaps uart's"},
		{"touching-above", SpacePort, 0x408, 8, ""},
		{"overlaps-second", SpacePort, 0x40f, 2, "overlaps pit's 0x410-0x413"},
		{"same-range-other-space", SpaceMMIO, 0x400, 8, ""},
		{"empty", SpacePort, 0x500, 0, "bad port range"},
		{"past-port-space", SpacePort, 0xfffe, 4, "bad port range"},
		{"wraps", SpaceMMIO, ^uint64(0), 2, "bad mmio range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &bus{}
			for _, r := range []struct {
				name       string
				base, size uint64
			}{{"uart", 0x400, 8}, {"pit", 0x410, 4}} {
				if err := b.register(SpacePort, r.base, r.size, r.name, &recorder{}); err != nil {
					t.Fatal(err)
				}
			}
			err := b.register(tc.space, tc.base, tc.size, "new", &recorder{})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestBusLookup(t *testing.T) {
	b := &bus{}
	devs := map[uint64]*recorder{}
	for _, base := range []uint64{0x60, 0x20, 0x3f8, 0x40, 0xcf8} { // registered out of order
		devs[base] = &recorder{}
		if err := b.register(SpacePort, base, 4, fmt.Sprint(base), devs[base]); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		addr     uint64
		wantBase uint64 // 0 = none
	}{{0x1f, 0}, {0x20, 0x20}, {0x23, 0x20}, {0x24, 0}, {0x42, 0x40}, {0x3fb, 0x3f8}, {0x3fc, 0}, {0xcfb, 0xcf8}, {0xffff, 0}, {0, 0}} {
		t.Run(fmt.Sprintf("%#x", tc.addr), func(t *testing.T) {
			r, ok := b.lookup(SpacePort, tc.addr)
			switch {
			case tc.wantBase == 0 && ok:
				t.Fatalf("found %s", r.name)
			case tc.wantBase != 0 && (!ok || r.base != tc.wantBase || r.dev != devs[tc.wantBase]):
				t.Fatalf("lookup = %v %v, want base %#x", r, ok, tc.wantBase)
			}
		})
	}
	// Accesses arrive with the offset into the range and the size.
	if got := b.in(0x3fa, 2, 0); got != 0xabcd0002 || devs[0x3f8].off != 2 || devs[0x3f8].size != 2 {
		t.Fatalf("in = %#x, device saw %+v", got, devs[0x3f8])
	}
	b.out(0x63, 1, 0x5a, 0)
	if r := devs[0x60]; r.off != 3 || r.size != 1 || r.val != 0x5a {
		t.Fatalf("out: device saw %+v", r)
	}
}

func TestBusUnknownPorts(t *testing.T) {
	var logged []string
	b := &bus{logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }}
	for _, tc := range []struct {
		port  uint16
		write bool
		rip   uint64
	}{{0x80, true, 0x1000}, {0x80, false, 0x1004}, {0x81, false, 0x1008}, {0x80, true, 0x100c}} {
		if tc.write {
			b.out(tc.port, 1, 0xff, tc.rip)
		} else if got := b.in(tc.port, 4, tc.rip); got != 0xffffffff {
			t.Fatalf("in %#x = %#x, want all ones", tc.port, got)
		}
	}
	want := []string{
		"no device at port 0x80 (rip=0x1000): reads all ones, writes ignored",
		"no device at port 0x81 (rip=0x1008): reads all ones, writes ignored",
	}
	if fmt.Sprint(logged) != fmt.Sprint(want) {
		t.Fatalf("logged %q, want %q", logged, want)
	}
}

func TestDomainBusDevices(t *testing.T) {
	for _, tc := range []struct {
		name       string
		privileged bool
		port       uint64
		want       string
	}{{"domU-debug", false, abi.DebugPort, "debug-port"}, {"domU-com2", false, com2Base, ""},
		{"dom0-com2", true, com2Base + 7, "com2"}, {"dom0-com2-end", true, com2Base + 8, ""}} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := fakeVCPU(t, tc.privileged)
			r, ok := v.dom.bus.lookup(SpacePort, tc.port)
			if got := map[bool]string{true: "found"}[ok]; ok && r.name != tc.want || !ok && tc.want != "" {
				t.Fatalf("port %#x: %s %v, want %q", tc.port, got, r, tc.want)
			}
		})
	}
}

// An NPF on a device's MMIO range is emulated: the instruction at RIP is
// decoded and carried out against the device, and RIP moves past it. The
// fake memory ends at 64 KiB, so an instruction at its last bytes is
// fetched short, as at the end of a mapped page.
func TestNPFEmulatesMMIO(t *testing.T) {
	for _, tc := range []struct {
		name      string
		code      []byte
		rip, rax  uint64
		wantRAX   uint64
		wantWrite uint64 // the value the device saw written (0 for reads)
		wantLen   uint64
		wantCrash string
	}{
		{"mov-load-eax", []byte{0x8b, 0x00}, 0x2000, 0, 0xabcd0030, 0, 2, ""},                    // mov eax, [rax]
		{"mov-store-eax", []byte{0x89, 0x00}, 0x2000, 0xfee00030, 0xfee00030, 0xfee00030, 2, ""}, // mov [rax], eax
		{"short-fetch", []byte{0x8b, 0x00}, 0x10000 - 2, 0, 0xabcd0030, 0, 2, ""},
		{"not-mmio", []byte{0x0f, 0x0b}, 0x2000, 0, 0, 0, 0, "MMIO access at gpa=0xfee00030 rip=0x2000"}, // ud2
		{"unreadable", nil, 0x20000, 0, 0, 0, 0, "cannot read the instruction at rip=0x20000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, m := fakeVCPU(t, false)
			dev := &recorder{}
			if err := v.dom.bus.register(SpaceMMIO, 0xfee00000, 0x1000, "dev", dev); err != nil {
				t.Fatal(err)
			}
			if tc.rip < uint64(len(m.b)) {
				copy(m.b[tc.rip:], tc.code)
			}
			x := exitState{code: svm.ExitNPF, info2: 0xfee00030, rip: tc.rip, rax: tc.rax, mode: 64}
			out := handleExit(v, &x)
			if tc.wantCrash != "" {
				if out.act != actCrash || !strings.Contains(out.why, tc.wantCrash) {
					t.Fatalf("outcome %v, want a crash naming %q", out, tc.wantCrash)
				}
				return
			}
			if out != resume || x.rip != tc.rip+tc.wantLen || x.rax != tc.wantRAX || dev.off != 0x30 || dev.size != 4 || dev.val != tc.wantWrite {
				t.Fatalf("outcome %v rip %#x rax %#x device %+v", out, x.rip, x.rax, dev)
			}
		})
	}
}

// BenchmarkBusPortLookup: the IOIO exit's lookup among a PC's worth of
// devices must stay a few nanoseconds and allocation-free.
func BenchmarkBusPortLookup(b *testing.B) {
	bus := &bus{}
	for i, base := range []uint64{0x20, 0x40, 0x60, 0x70, 0x80, 0xa0, 0xe9, 0x2f8, 0x3f8, 0xcf8} {
		bus.register(SpacePort, base, 1+uint64(i%4), fmt.Sprint(base), &recorder{})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bus.lookup(SpacePort, 0x3f8)
	}
}

// A PC guest's access above its RAM where no device is reads all ones and
// drops writes, as a PC's master abort does, and is counted; for Grove's
// own guests the same fault is a crash (TestExitOutcomes).
func TestPCUnmodelledMMIO(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    []byte
		wantRAX uint64
	}{
		{"load-32", []byte{0x8b, 0x00}, 0xffffffff},         // mov eax, [rax]: zero-extends
		{"load-8", []byte{0x8a, 0x00}, 0x12345678_000000ff}, // mov al, [rax]: merges
		{"store-32", []byte{0x89, 0x00}, 0x12345678_00000000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, m := fakeVCPU(t, false)
			v.dom.pc, v.dom.ram = &platform{}, &guestRAM{size: 1 << 20}
			copy(m.b[0x2000:], tc.code)
			x := exitState{code: svm.ExitNPF, info2: 0xd0000000, rip: 0x2000, rax: 0x12345678_00000000, mode: 64}
			out := handleExit(v, &x)
			if out != resume || x.rip != 0x2002 || x.rax != tc.wantRAX || v.dom.bus.unknown.Load() != 1 {
				t.Fatalf("outcome %v rip %#x rax %#x unknown %d", out, x.rip, x.rax, v.dom.bus.unknown.Load())
			}
		})
	}
}

// A sweep of every port logs maxLogged of them, then says it stops.
func TestBusUnknownPortsBounded(t *testing.T) {
	var logged []string
	b := &bus{logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }}
	for port := 0; port < 0x10000; port++ {
		b.in(uint16(port), 1, 0x1000)
	}
	if len(logged) != maxLogged+1 || !strings.Contains(logged[maxLogged], "no more are logged") {
		t.Fatalf("%d messages (want %d), the last %q", len(logged), maxLogged+1, logged[len(logged)-1])
	}
	if n := b.unknown.Load(); n != 0x10000 {
		t.Errorf("counted %d accesses, want 65536", n)
	}
}
