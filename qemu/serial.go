package qemu

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	vmq "github.com/hugelgupf/vmtest/qemu"
)

// Where a run's serial output goes besides the console a test reads.

// startVM is vmtest's StartT with the serial log sent where serialLog
// says, and the QEMU command line given with it.
func startVM(tb testing.TB, name string, fns []vmq.Fn) *vmq.VM {
	tb.Helper()
	logf, flush := serialLog(tb)
	tb.Cleanup(flush) // registered first, so it runs last, after any failure below
	lines := &lineWriter{print: vmq.DefaultPrint(name, logf)}
	vm, err := vmq.Start(vmq.ArchAMD64, append(fns, vmq.WithSerialOutput(lines))...)
	if err != nil {
		tb.Fatalf("starting QEMU VM %s: %v", name, err)
	}
	tb.Cleanup(func() { logf("QEMU command line to reproduce %s:\n%s", name, vm.CmdlineQuoted()) })
	// Wait reaps QEMU and passes on the last of its serial output. A test
	// that never called it fails, and its QEMU is killed rather than left
	// running on the host.
	tb.Cleanup(func() {
		if !vm.Waited() {
			tb.Errorf("Wait was never called on QEMU VM %s (killed)", name)
			vm.Kill()
			vm.Wait()
		}
	})
	return vm
}

// serialLog returns where a run's serial lines go, and a function to call
// when the test ends. A test logs them: go test shows a test's log only
// with -v or when it fails. A benchmark's log, though, go test always
// prints (its first ten lines), which would bury the figures under
// firmware output: without -v a benchmark keeps its last maxKeptLines
// lines and logs them only if it fails.
func serialLog(tb testing.TB) (logf func(string, ...any), flush func()) {
	if _, bench := tb.(*testing.B); !bench || testing.Verbose() {
		return tb.Logf, func() {}
	}
	var (
		mu      sync.Mutex
		kept    []string
		dropped int
	)
	logf = func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, fmt.Sprintf(f, a...))
		if len(kept) > maxKeptLines {
			dropped += len(kept) - maxKeptLines
			kept = kept[len(kept)-maxKeptLines:]
		}
	}
	flush = func() {
		if !tb.Failed() {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if dropped > 0 {
			tb.Logf("(%d earlier serial lines not kept)", dropped)
		}
		for _, s := range kept {
			tb.Logf("%s", s)
		}
	}
	return logf, flush
}

// maxKeptLines bounds the serial log a benchmark keeps for its failure
// report (a benchmark's boots print up to megabytes).
const maxKeptLines = 2000

// lineWriter passes the serial output on line by line, without the
// terminal control sequences firmware sends (vmtest's own line logger
// keeps them, each control byte turned into a '~').
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	print func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.print(cleanLine(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// Close passes on a last line without its newline.
func (w *lineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.print(cleanLine(w.buf))
		w.buf = nil
	}
	return nil
}

// escapes are terminal control sequences (CSI, and ESC c, the reset
// SeaBIOS sends), which mean nothing in a log.
var escapes = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-_c])`)

// cleanLine drops the escapes and shows any other control byte but a tab
// as '~'.
func cleanLine(b []byte) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return -1
		case r != '\t' && (r < ' ' || r == 0x7f):
			return '~'
		}
		return r
	}, escapes.ReplaceAllString(string(b), ""))
}
