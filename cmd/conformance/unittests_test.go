package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleCfg has the shapes x86/unittests.cfg uses, a commented-out test
// and a triple-quoted qemu_params with a joined line.
const sampleCfg = `##############
# x86 specifics
##############

[x2apic]
file = apic.flat
smp = 2
qemu_params = -cpu qemu64,+x2apic,+tsc-deadline
arch = x86_64
timeout = 30
groups = apic

#[init]
#file = init.flat

[vmexit_cpuid]
file = vmexit.flat
test_args = 'cpuid'
groups = vmexit

[multi]
file = multi.flat
extra_params = """-m 2048 \
-cpu max
-device edu"""
accel = kvm
check = /sys/module/kvm/parameters/enable_pmu=Y
`

func TestParseUnittests(t *testing.T) {
	got, err := parseUnittests(strings.NewReader(sampleCfg))
	if err != nil {
		t.Fatal(err)
	}
	want := []unittest{
		{Name: "x2apic", File: "apic.flat", SMP: "2", QEMUParams: "-cpu qemu64,+x2apic,+tsc-deadline", Arch: "x86_64",
			Timeout: "30", Groups: []string{"apic"}},
		{Name: "vmexit_cpuid", File: "vmexit.flat", TestArgs: "'cpuid'", Groups: []string{"vmexit"}},
		{Name: "multi", File: "multi.flat", QEMUParams: "-m 2048 -cpu max\n-device edu", Accel: "kvm",
			Check: "/sys/module/kvm/parameters/enable_pmu=Y"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
}

func TestParseUnittestsUnclosed(t *testing.T) {
	_, err := parseUnittests(strings.NewReader("[t]\nqemu_params = \"\"\"-m 1\n"))
	if err == nil || !strings.Contains(err.Error(), `[t] qemu_params: no closing """`) {
		t.Fatalf("got %v", err)
	}
}

func FuzzParseUnittests(f *testing.F) {
	f.Add(sampleCfg)
	f.Fuzz(func(t *testing.T, cfg string) {
		tests, err := parseUnittests(strings.NewReader(cfg))
		if err != nil {
			return
		}
		for _, u := range tests {
			u.timeout()
			u.vcpus()
		}
	})
}

func TestTimeoutAndVCPUs(t *testing.T) {
	for _, tc := range []struct {
		timeout, smp string
		want         time.Duration
		vcpus        int
		bad          bool
	}{
		{"", "", 90 * time.Second, 1, false},
		{"30", "2", 30 * time.Second, 2, false},
		{"240s", "4", 240 * time.Second, 4, false},
		{"1.5m", "1", 90 * time.Second, 1, false},
		{"abc", "1", 0, 1, true},
		{"10", "$MAX_SMP", 10 * time.Second, 0, true},
	} {
		t.Run(tc.timeout+"-"+tc.smp, func(t *testing.T) {
			u := unittest{Name: "t", Timeout: tc.timeout, SMP: tc.smp}
			d, err1 := u.timeout()
			n, err2 := u.vcpus()
			if tc.bad != (err1 != nil || err2 != nil) || !tc.bad && (d != tc.want || n != tc.vcpus) {
				t.Errorf("timeout %v %v, vcpus %d %v", d, err1, n, err2)
			}
		})
	}
}

// TestPrepare: the suite's reasons to skip, in its order, and what a test
// that runs is given.
func TestPrepare(t *testing.T) {
	kut := t.TempDir()
	os.MkdirAll(filepath.Join(kut, "x86"), 0o755)
	os.WriteFile(filepath.Join(kut, "x86", "t.flat"), []byte("x"), 0o644)
	for _, tc := range []struct {
		name string
		u    unittest
		all  bool
		skip string
	}{
		{"nodefault", unittest{File: "t.flat", Groups: []string{"vmx", "nodefault"}}, false, "test marked as manual run only"},
		{"nodefault-all", unittest{File: "t.flat", Groups: []string{"nodefault"}}, true, ""},
		{"i386", unittest{File: "t.flat", Arch: "i386"}, false, "i386 only"},
		{"kvm", unittest{File: "t.flat", Accel: "kvm"}, false, "kvm only, but ACCEL=tcg"},
		{"check", unittest{File: "t.flat", Check: "/nonexistent/param=Y"}, false, "/nonexistent/param not equal to Y"},
		{"missing", unittest{File: "none.flat"}, false, "Test file '" + filepath.Join(kut, "x86", "none.flat") + "' not found"},
		{"disabled", unittest{File: "t.flat", DisabledIf: "true"}, false, "disabled because: true"},
		{"runs", unittest{File: "t.flat", DisabledIf: "false", TestArgs: `"-a b" 'c'`, QEMUParams: "-cpu max -m 2g"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.u.Name = tc.name
			j := prepare(tc.u, kut, tc.all)
			if j.skip != tc.skip {
				t.Fatalf("skip %q, want %q", j.skip, tc.skip)
			}
			if tc.name == "runs" && (!reflect.DeepEqual(j.args, []string{"-a b", "c"}) || j.memoryMB != 2048 ||
				j.vcpus != 1 || j.limit != DefaultTimeout || cpuModel(j.params) != "max") {
				t.Fatalf("job %+v", j)
			}
		})
	}
}

func TestMemoryOf(t *testing.T) {
	for _, tc := range []struct {
		params []string
		want   int
		bad    bool
	}{
		{nil, 128, false},
		{[]string{"-cpu", "max", "-m", "2048"}, 2048, false},
		{[]string{"-m", "4g"}, 4096, false},
		{[]string{"-m", "2560M"}, 2560, false},
		{[]string{"-m", "size=1G,slots=2"}, 1024, false},
		{[]string{"-m", "lots"}, 0, true},
	} {
		t.Run(strings.Join(tc.params, "_"), func(t *testing.T) {
			got, err := memoryOf(tc.params)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestGroveConfig(t *testing.T) {
	j := job{unittest: unittest{Name: "vmexit_ipi", File: "vmexit.flat"}, kernel: "x86/vmexit.flat", vcpus: 2, args: []string{"ipi"}, memoryMB: 4096}
	want := "[[domain]]\nname = \"vmexit-ipi\"\nkernel = \"x86/vmexit.flat\"\nmemory_mb = 3072\nvcpus = 2\ncmdline = \"ipi\"\n"
	if got := string(groveConfig(j)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := directArgs(j); strings.Join(got, " ") != "-machine q35 -accel tcg -nodefaults -display none -serial stdio "+
		"-no-reboot -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 -cpu max -kernel x86/vmexit.flat -smp 2 -append ipi" {
		t.Errorf("direct args %q", got)
	}
}
