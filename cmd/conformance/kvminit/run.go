package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"grove/cmd/conformance/peer"
	"grove/internal/kvmhost"
)

// qemu is the host's QEMU at its host path: QEMU finds its firmware
// relative to itself (../share/qemu, ../share/seabios). silentLimit is
// peer.SilentLimit. Both are variables for the tests.
var (
	qemu        = "/usr/bin/qemu-system-x86_64"
	silentLimit = peer.SilentLimit
)

// runTest runs t, and once more if the first run printed nothing for
// peer.SilentLimit (a nested QEMU now and then hangs before the test
// kernel starts).
func runTest(con io.Writer, t peer.Test) {
	if !runOnce(con, t) {
		return
	}
	fmt.Fprint(con, peer.Retry(t.Name, fmt.Sprintf("the first run printed nothing in %v and was killed", silentLimit)))
	if runOnce(con, t) {
		fmt.Fprint(con, peer.Silent(t.Name, silentLimit))
	}
}

// runOnce runs one QEMU, echoing its output line by line as it comes
// (tests run one at a time), and reports its end, unless it was killed
// for silence (the result).
func runOnce(con io.Writer, t peer.Test) (silent bool) {
	ctx, cancel := context.WithTimeout(context.Background(), t.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, t.Args...)
	cmd.Env = []string{"LD_LIBRARY_PATH=" + kvmhost.LibraryPath, "HOME=/tmp", "TMPDIR=/tmp"}
	stdout, err := cmd.StdoutPipe()
	var stderr io.ReadCloser
	if err == nil {
		stderr, err = cmd.StderrPipe()
	}
	start := time.Now()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprint(con, peer.Failed(t.Name, err))
		return false
	}
	spoke := make(chan struct{})
	var once sync.Once
	var killed atomic.Bool
	go watchdog(ctx, spoke, &killed, cancel)
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(2)
	go echo(&wg, &mu, con, stdout, t.Name, peer.Out, func() { once.Do(func() { close(spoke) }) })
	go echo(&wg, &mu, con, stderr, t.Name, peer.Err, func() {})
	wg.Wait() // the pipes close when QEMU ends or is killed
	err = cmd.Wait()
	if killed.Load() {
		return true
	}
	reportEnd(con, t.Name, ctx.Err() != nil, err, time.Since(start))
	return false
}

// watchdog kills QEMU (cancel) when it has not spoken within
// silentLimit.
func watchdog(ctx context.Context, spoke <-chan struct{}, killed *atomic.Bool, cancel func()) {
	t := time.NewTimer(silentLimit)
	defer t.Stop()
	select {
	case <-spoke:
	case <-ctx.Done():
	case <-t.C:
		killed.Store(true)
		cancel()
	}
}

func reportEnd(con io.Writer, test string, timedOut bool, err error, d time.Duration) {
	var ee *exec.ExitError
	switch {
	case timedOut:
		fmt.Fprint(con, peer.Timeout(test, d))
	case err == nil:
		fmt.Fprint(con, peer.Exit(test, 0, d))
	case errors.As(err, &ee):
		fmt.Fprint(con, peer.Exit(test, ee.ExitCode(), d))
	default:
		fmt.Fprint(con, peer.Failed(test, err))
	}
}

// echo copies r to the console a line at a time, each in a peer line,
// calling seen after each.
func echo(wg *sync.WaitGroup, mu *sync.Mutex, con io.Writer, r io.Reader, test string, line func(string, string) string, seen func()) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mu.Lock()
		fmt.Fprint(con, line(test, trimCR(sc.Text())))
		mu.Unlock()
		seen()
	}
	io.Copy(io.Discard, r)
}

func trimCR(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\r' {
		s = s[:len(s)-1]
	}
	return s
}
