package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// The peer of BenchmarkLinuxBoot (qemu/linuxbench_test.go), run with
// `-- linux-boot` at the end of the kernel's command line: QEMU with
// Linux's KVM as the hypervisor, the host's own qemu-system-x86_64 with
// its libraries and firmware in this initramfs (internal/kvmhost), booting
// the guest kernel and initramfs /linuxboot.json names.

// linuxBoots is /linuxboot.json, written by qemu/kvmpeer_test.go.
type linuxBoots struct {
	Args    []string      `json:"args"`    // QEMU's arguments, -append and the command line follow
	Line    string        `json:"line"`    // the guest's line that ends a boot
	Runs    int           `json:"runs"`    // boots of each command line
	Timeout time.Duration `json:"timeout"` // for one boot
	Echo    bool          `json:"echo"`    // copy the guest's serial output to the console as it comes (for experiments)
	Boots   []struct {
		Name    string `json:"name"` // one word
		Cmdline string `json:"cmdline"`
	} `json:"boots"`
}

const (
	qemuPath = "/usr/bin/qemu-system-x86_64" // its host path: QEMU finds its firmware relative to it
	// ldPath is internal/kvmhost.LibraryPath (this module cannot import it).
	ldPath = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64"
)

// linuxBoot boots each command line Runs times, one boot at a time, and
// prints "kvm: linux-boot NAME MS ms" for each: from just before QEMU's
// exec to the line on the guest's serial port (QEMU's standard output).
func linuxBoot(out *os.File) {
	for _, m := range []struct{ fs, dir string }{{"proc", "/proc"}, {"sysfs", "/sys"}, {"tmpfs", "/tmp"}, {"tmpfs", "/dev/shm"}} {
		os.MkdirAll(m.dir, 0o755)
		if err := syscall.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil && err != syscall.EBUSY {
			fail(out, fmt.Errorf("mount %s on %s: %v", m.fs, m.dir, err))
		}
	}
	b, err := os.ReadFile("/linuxboot.json")
	if err != nil {
		fail(out, err)
	}
	var cfg linuxBoots
	if err := json.Unmarshal(b, &cfg); err != nil {
		fail(out, fmt.Errorf("/linuxboot.json: %v", err))
	}
	for _, v := range cfg.Boots {
		for i := range cfg.Runs {
			d, err := bootOnce(cfg, v.Cmdline, out)
			if err != nil {
				fail(out, fmt.Errorf("%s, boot %d: %v", v.Name, i+1, err))
			}
			fmt.Fprintf(out, "kvm: linux-boot %s %d ms\n", v.Name, d.Milliseconds())
		}
	}
	fmt.Fprintf(out, "kvm: done\n")
	powerOff()
}

// bootOnce runs QEMU until cfg.Line appears on its standard output (or
// cfg.Timeout passes, or QEMU ends), kills it, and returns the time to the
// line.
func bootOnce(cfg linuxBoots, cmdline string, out *os.File) (time.Duration, error) {
	cmd := exec.Command(qemuPath, append(cfg.Args, "-append", cmdline)...)
	cmd.Env = []string{"LD_LIBRARY_PATH=" + ldPath, "HOME=/tmp", "TMPDIR=/tmp"}
	stderr := &tailWriter{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	w := &watch{line: []byte(cfg.Line), found: make(chan time.Duration, 1), done: make(chan struct{})}
	if cfg.Echo {
		w.echo = out
		cmd.Stderr = io.MultiWriter(stderr, out)
	}
	w.start = time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go w.read(stdout)
	var d time.Duration
	timeout := time.NewTimer(cfg.Timeout)
	defer timeout.Stop()
	select {
	case d = <-w.found:
	case <-w.done:
		err = fmt.Errorf("QEMU ended before %q", cfg.Line)
	case <-timeout.C:
		err = fmt.Errorf("no %q after %v", cfg.Line, cfg.Timeout)
	}
	cmd.Process.Kill()
	<-w.done
	cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("%v; QEMU's serial output ended %q; its standard error %q", err, w.tail.String(), stderr.String())
	}
	return d, nil
}

// watch reads QEMU's serial output, sends the time from start to line
// on found, keeps the output's tail, and closes done at its end.
type watch struct {
	line  []byte
	start time.Time
	found chan time.Duration
	done  chan struct{}
	tail  tailWriter
	echo  io.Writer // if not nil, gets the output too
}

func (w *watch) read(r io.Reader) {
	defer close(w.done)
	var window []byte // the end of what came before, in case the line is split
	seen := false
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if !seen {
				window = append(window, buf[:n]...)
				if bytes.Contains(window, w.line) {
					w.found <- time.Since(w.start)
					seen = true
				}
				window = window[max(0, len(window)-len(w.line)):]
			}
			w.tail.Write(buf[:n])
			if w.echo != nil {
				w.echo.Write(buf[:n])
			}
		}
		if err != nil {
			return
		}
	}
}

// tailWriter keeps the last 2 KiB written to it.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2048 {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-2048:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
