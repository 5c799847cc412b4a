// Package qemu boots Grove images in QEMU (TCG, -cpu max) for integration
// tests and benchmarks. It builds the images it needs once per test binary,
// starts QEMU through vmtest's qemu package with a deadline, keeps the tail
// of the serial console for failure reports, and decodes the exit status
// that Grove sets through the isa-debug-exit device (33 success, 35 failure).
package qemu

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Netflix/go-expect"

	vmq "github.com/hugelgupf/vmtest/qemu"
	"grove/ctl/proto"
)

// Exit statuses QEMU reports for Grove's power-off codes.
const (
	StatusSuccess = 33
	StatusFailure = 35
)

// BaseCommand is the plain QEMU line (docs/qemu-tcg.md), without -m, -cpu,
// -accel and -kernel, and with two CPUs: Grove is an SMP kernel, so every
// test runs on more than one unless it asks otherwise (a later -smp in
// Boot.Args wins: QEMU merges repeated -smp options, the last value of each
// key counting).
const BaseCommand = "qemu-system-x86_64 -machine q35 -nographic -no-reboot " +
	"-device isa-debug-exit,iobase=0xf4,iosize=0x04 -smp 2"

// DefaultAccel is single-threaded TCG: the -smp 2 CPUs are interleaved by
// one host thread. QEMU 7.2's multi-threaded TCG (MultiAccel) sometimes
// corrupts SVM state when guests exit at high rates (docs/qemu-tcg.md), so
// the general hypervisor and control-plane tests avoid it; the tests of
// parallelism itself (qemu/smp_test.go, qemu/hvsmp_test.go, the benches,
// the in-image self-tests of scripts/selftest.sh) use MultiAccel.
const DefaultAccel = "tcg,thread=single"

// MultiAccel is QEMU's multi-threaded TCG: one host thread per virtual
// CPU, so the CPUs of an -smp run really run at once.
const MultiAccel = "tcg,thread=multi"

// Images are the artefacts a test run boots.
type Images struct {
	Dir    string
	Linked string // the Go ELF before groveimg
	Grove  string // multiboot + PVH image (what `make image` produces)
	PVH    string // PVH-only image, to exercise that path under QEMU
	// Heartbeat is the Go heartbeat guest (guests/heartbeat, groveguest).
	Heartbeat string
	Agent     string // the Go control agent (guests/agent)
}

var (
	buildOnce sync.Once
	built     Images
	buildErr  error
)

// Build builds the images (once per process) from the module root.
func Build(tb testing.TB) Images {
	tb.Helper()
	requireQEMU(tb)
	buildOnce.Do(func() { built, buildErr = build() })
	if buildErr != nil {
		tb.Fatalf("building Grove images: %v", buildErr)
	}
	return built
}

func build() (Images, error) {
	dir, err := os.MkdirTemp("", "grove-qemu-")
	if err != nil {
		return Images{}, err
	}
	im := Images{Dir: dir, Linked: filepath.Join(dir, "grove.linked"),
		Grove: filepath.Join(dir, "grove.elf"), PVH: filepath.Join(dir, "grove-pvh.elf"),
		Heartbeat: filepath.Join(dir, "heartbeat.elf"), Agent: filepath.Join(dir, "agent.elf")}
	hbLinked, agLinked := filepath.Join(dir, "heartbeat.linked"), filepath.Join(dir, "agent.linked")
	steps := [][]string{
		{"go", "build", "-tags", "groveguest", "-trimpath", "-ldflags=-T 0x200000 -R 0x1000", "-o", agLinked, "grove/guests/agent"},
		{"go", "run", "grove/cmd/groveimg", "-protocols=pvh", "-o", im.Agent, agLinked},
		{"go", "build", "-tags", "groveguest", "-trimpath", "-ldflags=-T 0x200000 -R 0x1000", "-o", hbLinked, "grove/guests/heartbeat"},
		{"go", "run", "grove/cmd/groveimg", "-protocols=pvh", "-o", im.Heartbeat, hbLinked},
		{"go", "build", "-trimpath", "-ldflags=-T 0x200000 -R 0x1000", "-o", im.Linked, "grove/cmd/grove"},
		{"go", "run", "grove/cmd/groveimg", "-o", im.Grove, im.Linked},
		{"go", "run", "grove/cmd/groveimg", "-protocols=pvh", "-o", im.PVH, im.Linked},
	}
	for _, s := range steps {
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			return im, fmt.Errorf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	return im, nil
}

// requireQEMU fails (or skips, only if GROVE_SKIP_QEMU=1) without QEMU.
func requireQEMU(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err == nil {
		return
	}
	if os.Getenv("GROVE_SKIP_QEMU") == "1" {
		tb.Skip("qemu-system-x86_64 missing and GROVE_SKIP_QEMU=1")
	}
	tb.Fatal("qemu-system-x86_64 not found: run `make prereqs` or apt-get install -y qemu-system-x86")
}

// Boot describes one QEMU run.
type Boot struct {
	Kernel string // -kernel image (or empty with CDROM)
	CDROM  string // -cdrom ISO
	Append string // kernel command line
	Mem    string // -m; default 512M
	CPU    string // -cpu; default max
	// Accel is the -accel value, default DefaultAccel. It cannot be given
	// in Args: repeated -accel options are alternatives QEMU tries in
	// order, so a second one would never be used.
	Accel  string
	Initrd string // -initrd (multiboot modules: "FILE ARGS,FILE ARGS")
	// Control is a unix socket path for the second serial port (COM2, the
	// control agent's host channel), with the channel's shared memory in a
	// file beside it (proto.ShmPath); empty = none.
	Control string
	Args    []string // more QEMU arguments (firmware drives, another -smp)
	Timeout time.Duration
}

// Run is a started VM.
type Run struct {
	VM      *vmq.VM
	tail    *tail
	started time.Time
	tb      testing.TB
}

// Start boots b and returns the running VM. Every run has a deadline.
func Start(tb testing.TB, name string, b Boot) *Run {
	tb.Helper()
	if b.Mem == "" {
		b.Mem = "512M"
	}
	if b.Timeout == 0 {
		b.Timeout = 2 * time.Minute
	}
	if b.CPU == "" {
		b.CPU = "max"
	}
	if b.Accel == "" {
		b.Accel = DefaultAccel
	}
	cmd := BaseCommand + " -accel " + b.Accel + " -cpu " + b.CPU + " -m " + b.Mem
	fns := []vmq.Fn{vmq.WithQEMUCommand(cmd), vmq.WithVMTimeout(b.Timeout)}
	if b.CDROM != "" {
		fns = append(fns, vmq.WithQEMUArgs("-cdrom", b.CDROM))
	} else {
		fns = append(fns, vmq.WithKernel(b.Kernel), vmq.WithAppendKernel(b.Append))
		if b.Initrd != "" {
			fns = append(fns, vmq.WithQEMUArgs("-initrd", b.Initrd))
		}
	}
	if b.Control != "" {
		fns = append(fns, vmq.WithQEMUArgs("-serial", "mon:stdio", "-serial", "unix:"+b.Control+",server=on,wait=off",
			"-object", "memory-backend-file,id=ctlshm,share=on,mem-path="+proto.ShmPath(b.Control)+",size=1M",
			"-device", "ivshmem-plain,memdev=ctlshm"))
	}
	if len(b.Args) > 0 {
		fns = append(fns, vmq.WithQEMUArgs(b.Args...))
	}
	t := &tail{}
	fns = append(fns, vmq.WithSerialOutput(t))
	r := &Run{tail: t, started: time.Now(), tb: tb}
	r.VM = startVM(tb, name, fns)
	return r
}

// Expect waits up to d for s on the console; on failure it reports the
// serial tail and the VM is killed.
func (r *Run) Expect(s string, d time.Duration) string {
	r.tb.Helper()
	out, err := r.expect(d, expect.String(s))
	if err != nil {
		r.tb.Fatalf("waiting %v for %q: %v\nserial tail:\n%s", d, s, err, r.tail.String())
	}
	return out
}

// ExpectAll waits up to d until every string has appeared, in any order
// (guests print interleaved).
func (r *Run) ExpectAll(d time.Duration, ss ...string) {
	r.tb.Helper()
	var opts []expect.ExpectOpt
	for _, s := range ss {
		opts = append(opts, expect.String(s))
	}
	if _, err := r.expect(d, expect.All(opts...)); err != nil {
		r.tb.Fatalf("waiting %v for all of %q: %v\nserial tail:\n%s", d, ss, err, r.tail.String())
	}
}

// expect enforces d as a deadline for the whole wait: go-expect's own
// timeout restarts with every byte, so a chatty guest would never time out.
func (r *Run) expect(d time.Duration, m expect.ExpectOpt) (string, error) {
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := r.VM.Console.Expect(m, expect.WithTimeout(d))
		done <- result{out, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			res.err = fmt.Errorf("%w (%s)", res.err, r.stop())
		}
		return res.out, res.err
	case <-time.After(d):
		r.kill()
		<-done
		return "", fmt.Errorf("deadline of %v passed", d)
	}
}

// stop ends the VM after a failed wait and says how it ended: an I/O error
// on the console usually means QEMU had already exited (Grove powered off,
// wrote the exit port or triple-faulted), and its status says which.
func (r *Run) stop() string {
	exited := make(chan error, 1)
	go func() { exited <- r.VM.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return "QEMU had exited with status 0"
		case errors.As(err, &ee):
			return fmt.Sprintf("QEMU had exited: %v", ee)
		}
		return fmt.Sprintf("QEMU had ended: %v", err)
	case <-time.After(time.Second):
		r.VM.Kill()
		<-exited
		return "QEMU was still running; killed"
	}
}

func (r *Run) kill() {
	r.VM.Kill()
	r.VM.Wait()
}

// Send types s on the serial console.
func (r *Run) Send(s string) {
	r.tb.Helper()
	if _, err := r.VM.Console.Send(s); err != nil {
		r.tb.Fatalf("sending %q: %v", s, err)
	}
}

// Wait waits for QEMU to exit and returns its exit status and run time.
func (r *Run) Wait() (int, time.Duration) {
	r.tb.Helper()
	err := r.VM.Wait()
	d := time.Since(r.started)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, d
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode(), d
	}
	r.tb.Fatalf("QEMU did not exit normally after %v: %v\nserial tail:\n%s", d.Round(time.Millisecond), err, r.tail.String())
	return -1, d
}

// WantStatus waits for exit and checks the status.
func (r *Run) WantStatus(want int) time.Duration {
	r.tb.Helper()
	got, d := r.Wait()
	if got != want {
		r.tb.Fatalf("QEMU exit status %d, want %d\nserial tail:\n%s", got, want, r.tail.String())
	}
	return d
}

// Serial returns the console output kept so far (the last 64 KiB).
func (r *Run) Serial() string { return r.tail.String() }

// All returns all console output kept (the last 64 KiB), CRs removed.
func (r *Run) All() string { return r.Since(0) }

// Mark is a point in the console output, for Since.
func (r *Run) Mark() int64 {
	r.tail.mu.Lock()
	defer r.tail.mu.Unlock()
	return r.tail.total
}

// Since returns the console output after mark, CRs removed: all of it,
// unlike slicing All, whose 64 KiB window slides under a chatty guest
// (what fell out of the window is gone; Since then starts at the window).
func (r *Run) Since(mark int64) string {
	r.tail.mu.Lock()
	defer r.tail.mu.Unlock()
	kept := int64(len(r.tail.buf))
	skip := max(0, kept-(r.tail.total-mark))
	return strings.ReplaceAll(string(r.tail.buf[skip:]), "\r", "")
}

// tail keeps the last 64 KiB written to it, and counts all of it.
type tail struct {
	mu    sync.Mutex
	buf   []byte
	total int64 // bytes ever written
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - 64<<10; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) Close() error { return nil }

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.ReplaceAll(string(t.buf), "\r", "")
	if lines := strings.Split(s, "\n"); len(lines) > 40 {
		s = strings.Join(lines[len(lines)-40:], "\n")
	}
	return s
}
