package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"grove/cmd/conformance/peer"
)

// qemu is the host's QEMU at its host path: QEMU finds its firmware
// relative to itself (../share/qemu, ../share/seabios).
const qemu = "/usr/bin/qemu-system-x86_64"

// runTest runs one QEMU, echoing its output line by line as it comes
// (serial output interleaves with nothing else: tests run one at a time).
func runTest(con io.Writer, t peer.Test) {
	ctx, cancel := context.WithTimeout(context.Background(), t.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, t.Args...)
	cmd.Env = []string{"LD_LIBRARY_PATH=" + ldPath, "HOME=/tmp", "TMPDIR=/tmp"}
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
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(2)
	go echo(&wg, &mu, con, stdout, t.Name, peer.Out)
	go echo(&wg, &mu, con, stderr, t.Name, peer.Err)
	wg.Wait() // the pipes close when QEMU ends or is killed
	err = cmd.Wait()
	d := time.Since(start)
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		fmt.Fprint(con, peer.Timeout(t.Name, d))
	case err == nil:
		fmt.Fprint(con, peer.Exit(t.Name, 0, d))
	case errors.As(err, &ee):
		fmt.Fprint(con, peer.Exit(t.Name, ee.ExitCode(), d))
	default:
		fmt.Fprint(con, peer.Failed(t.Name, err))
	}
}

// echo copies r to the console a line at a time, each in a peer line.
func echo(wg *sync.WaitGroup, mu *sync.Mutex, con io.Writer, r io.Reader, test string, line func(string, string) string) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mu.Lock()
		fmt.Fprint(con, line(test, trimCR(sc.Text())))
		mu.Unlock()
	}
	io.Copy(io.Discard, r)
}

func trimCR(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\r' {
		s = s[:len(s)-1]
	}
	return s
}
