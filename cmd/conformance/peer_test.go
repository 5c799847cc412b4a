package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"

	"grove/cmd/conformance/peer"
	"grove/internal/kvmhost"
)

// TestPeerInitrd: the cpio holds the console, every file with its
// directories before it, and the tests.
func TestPeerInitrd(t *testing.T) {
	dir := t.TempDir()
	host := func(name, data string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(data), 0o644)
		return p
	}
	files := []kvmhost.File{{Name: "init", Host: host("init", "INIT")}, {Name: peerQEMU, Host: host("qemu", "QEMU")},
		{Name: "lib/x86_64-linux-gnu/libc.so.6", Host: host("libc", "LIBC")}, {Name: "lib/x86_64-linux-gnu/libz.so.1", Host: host("libz", "LIBZ")}}
	tests := []peer.Test{{Name: "vmexit_cpuid", Args: []string{"-accel", "kvm"}, Timeout: time.Minute}}
	dst := filepath.Join(dir, "peer.cpio")
	if err := writePeerInitrd(dst, files, tests); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(dst)
	defer f.Close()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	contents := map[string]string{}
	for _, r := range recs {
		names = append(names, r.Name)
		if r.Mode&cpio.S_IFMT == cpio.S_IFREG {
			b, _ := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
			contents[r.Name] = string(b)
		}
	}
	want := []string{"dev", "dev/console", "tests.json", "init", "usr", "usr/bin", peerQEMU, "lib", "lib/x86_64-linux-gnu",
		"lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libz.so.1"}
	if !slices.Equal(names, want) {
		t.Errorf("records %q, want %q", names, want)
	}
	var back []peer.Test
	if err := json.Unmarshal([]byte(contents["tests.json"]), &back); err != nil || !reflect.DeepEqual(back, tests) {
		t.Errorf("tests.json %q: %v", contents["tests.json"], err)
	}
	if contents[peerQEMU] != "QEMU" || contents["init"] != "INIT" {
		t.Errorf("contents %q", contents)
	}
	if err := writePeerInitrd(dst, []kvmhost.File{{Name: "x", Host: filepath.Join(dir, "missing")}}, nil); err == nil ||
		!strings.Contains(err.Error(), "KVM host's initramfs") {
		t.Errorf("missing file: %v", err)
	}
}

// TestPeerArgs: the nested QEMU runs the suite's line on KVM, the PIT
// policy before the test's parameters (which still win).
func TestPeerArgs(t *testing.T) {
	j := job{unittest: unittest{Name: "vmexit_tscdeadline", File: "vmexit.flat"}, vcpus: 1, args: []string{"tscdeadline"},
		params: []string{"-cpu", "qemu64,+x2apic,+tsc-deadline"}}
	got := strings.Join(peerArgs(j), " ")
	want := "-machine q35 -accel kvm -nodefaults -display none -serial stdio -no-reboot -device pc-testdev " +
		"-device isa-debug-exit,iobase=0xf4,iosize=0x4 -cpu host -kernel /kut/x86/vmexit.flat -smp 1 -append tscdeadline " +
		"-global kvm-pit.lost_tick_policy=discard -cpu qemu64,+x2apic,+tsc-deadline"
	if got != want {
		t.Errorf("peerArgs\n got %s\nwant %s", got, want)
	}
	j.limit = time.Minute
	tests, total := peerTests([]job{j, j}, 1.5)
	if len(tests) != 2 || tests[0].Name != j.Name || tests[1].Timeout != 90*time.Second {
		t.Errorf("peerTests %+v", tests)
	}
	if want := 3*time.Minute + 2*peer.SilentLimit; total != want {
		t.Errorf("total %v, want %v", total, want)
	}
}

// TestPeerResults: the console's outcomes become results as a direct
// run's would.
func TestPeerResults(t *testing.T) {
	mk := func(name string) job { return job{unittest: unittest{Name: name}, limit: time.Minute} }
	jobs := []job{mk("a"), mk("b"), mk("c"), mk("d"), mk("e"), mk("f"), mk("g")}
	console := peer.Out("a", "cpuid 5") + peer.Out("a", "SUMMARY: 1 tests") + peer.Exit("a", 1, time.Second) +
		peer.Exit("b", 3, time.Second) + peer.Timeout("c", 2*time.Minute) + peer.Failed("d", io.ErrUnexpectedEOF) +
		peer.Err("f", "hung") + peer.Retry("f", "silent") + peer.Out("f", "SUMMARY: 1 tests") + peer.Exit("f", 1, time.Second) +
		peer.Retry("g", "silent") + peer.Silent("g", time.Minute)
	got, why := peerResults(peer.Parse(console), jobs, 2, false)
	want := map[string]result{
		"a": {Status: pass, Why: "(1 tests)", Time: time.Second, Out: "cpuid 5\nSUMMARY: 1 tests\n"},
		"b": {Status: fail, Time: time.Second},
		"c": {Status: fail, Why: "timeout; duration=2m0s", Time: 2 * time.Minute},
		"d": {Status: fail, Why: "QEMU did not start: unexpected EOF"},
		"e": {Status: fail, Why: "the peer's kernel ended before the test did"},
		"f": {Status: pass, Why: "(1 tests)", Time: time.Second, Out: "SUMMARY: 1 tests\n", Retry: "silent"},
		"g": {Status: fail, Why: "QEMU printed nothing in 1m0s, twice (hung before the test began)"},
	}
	if why != "" || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v %q\nwant %+v", got, why, want)
	}
	if _, why := peerResults(peer.Parse(peer.SetupFailed(io.EOF)), jobs, 1, false); why != "setup failed: EOF" {
		t.Errorf("setup failure: %q", why)
	}
	if got, _ := peerResults(peer.Report{}, jobs[:1], 1, true); got["a"].Why != "the peer timed out before the test ended" {
		t.Errorf("peer timeout: %+v", got)
	}
}

// TestPeerNotRun: without `make linux`'s files, or with a QEMU ldd cannot
// read, the exit table says why in the KVM column.
func TestPeerNotRun(t *testing.T) {
	dir := t.TempDir()
	j := job{unittest: unittest{Name: "vmexit_cpuid", File: "vmexit.flat", Groups: []string{"vmexit"}}, kernel: filepath.Join(dir, "vmexit.flat")}
	r := &runner{qemu: "/bin/sh", logs: dir, scale: 1}
	pc := peerConfig{on: true, linux: filepath.Join(dir, "linux"), init: filepath.Join(dir, "kvminit")}
	if _, why := r.kvmPeer(t.Context(), pc, []job{j}, io.Discard); !strings.Contains(why, "make linux") {
		t.Errorf("no linux: %q", why)
	}
	os.MkdirAll(filepath.Join(dir, "linux", "kvm"), 0o755)
	for _, f := range []string{"linux/vmlinuz", "linux/kvm/kvm-amd.ko", "kvminit"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	r.qemu = filepath.Join(dir, "kvminit") // not an executable ldd reads
	if _, why := r.kvmPeer(t.Context(), pc, []job{j}, io.Discard); !strings.HasPrefix(why, "not run: ") {
		t.Errorf("bad qemu: %q", why)
	}
	if _, why := r.kvmPeer(t.Context(), peerConfig{}, []job{j}, io.Discard); why != "not run (-kvm-peer=false)" {
		t.Errorf("off: %q", why)
	}
	if got := peerJobs([]job{j, {unittest: unittest{Name: "sieve"}}, {unittest: j.unittest, skip: "x"}}); len(got) != 1 {
		t.Errorf("peerJobs %+v", got)
	}
	for _, tc := range []struct{ line, want string }{
		{"[ 1.0] x" + peer.Exit("vmexit_cpuid", 1, 1500*time.Millisecond), "QEMU exit 1 after 1.5s"},
		{peer.Retry("vmexit_cpuid", "it hung"), "it hung; once more"},
		{peer.Silent("vmexit_cpuid", time.Minute), "printed nothing in 1m0s, twice"},
		{peer.Timeout("vmexit_cpuid", time.Minute), "timeout after 60.0s"},
	} {
		var b bytes.Buffer
		peerProgress(&b, tc.line)
		if want := "        vmexit_cpuid under QEMU/KVM nested: " + tc.want + "\n"; b.String() != want {
			t.Errorf("progress %q, want %q", b.String(), want)
		}
	}
}
