package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Netflix/go-expect"

	"grove/boot/bundle"
	"grove/ctl/proto"
)

// lineLog reads a run's console line by line in the background until QEMU
// exits. Guests that print many lines need a reader all the time: with
// nobody reading, the pty fills, QEMU stops taking the serial port's bytes
// and Grove's console writes wait, which would disturb what the guests
// measure. A test using it reads the console only through it (and calls
// Run.WantStatus only after the VM exits).
type lineLog struct {
	r     *Run
	mu    sync.Mutex
	lines []string
	at    []time.Time   // when each line came
	more  chan struct{} // closed and replaced at every line
	done  chan struct{} // closed when the console ends
}

func readLines(r *Run) *lineLog {
	l := &lineLog{r: r, more: make(chan struct{}), done: make(chan struct{})}
	// A test that fails before halting must not leave QEMU running: the
	// VM's deadline is enforced only while this process waits for it.
	r.tb.Cleanup(func() {
		select {
		case <-l.done:
		default:
			r.kill()
		}
	})
	go func() {
		defer close(l.done)
		for {
			s, err := r.VM.Console.Expect(expect.String("\n"))
			if err != nil {
				return
			}
			l.mu.Lock()
			l.lines = append(l.lines, strings.TrimRight(s, "\r\n"))
			l.at = append(l.at, time.Now())
			close(l.more)
			l.more = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	return l
}

// len is the number of lines read so far.
func (l *lineLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// since returns the lines from index i on.
func (l *lineLog) since(i int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[min(i, len(l.lines)):]...)
}

// timed returns every line and when it came.
func (l *lineLog) timed() ([]string, []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...), append([]time.Time(nil), l.at...)
}

// wait waits up to d for n lines at index from or later that match, and
// returns the index after the last of them; it fails the test (killing the
// VM) if they do not come.
func (l *lineLog) wait(tb testing.TB, from, n int, d time.Duration, match func(string) bool) int {
	tb.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		seen := 0
		for i := from; i < len(l.lines); i++ {
			if match(l.lines[i]) {
				if seen++; seen == n {
					l.mu.Unlock()
					return i + 1
				}
			}
		}
		more := l.more
		l.mu.Unlock()
		select {
		case <-more:
		case <-l.done:
			tb.Fatalf("console ended waiting for %d matching lines\nserial tail:\n%s", n, l.r.tail.String())
		case <-deadline:
			l.r.kill()
			tb.Fatalf("waited %v for %d matching lines\nserial tail:\n%s", d, n, l.r.tail.String())
		}
	}
}

// waitFor waits for a line holding s, from index from on.
func (l *lineLog) waitFor(tb testing.TB, from int, s string, d time.Duration) int {
	tb.Helper()
	return l.wait(tb, from, 1, d, func(line string) bool { return strings.Contains(line, s) })
}

// startCPUs starts b with n CPUs (-smp n, multi-threaded TCG) and reads
// its console. On a loaded host an application processor can miss the
// kernel's start-up deadline (one second) and Grove runs on fewer CPUs,
// which makes a test of CPUs running at once meaningless: such a boot is
// retried, twice at most.
func startCPUs(tb testing.TB, name string, b Boot, n int) *lineLog {
	tb.Helper()
	b.Accel, b.Args = MultiAccel, append(b.Args, "-smp", strconv.Itoa(n))
	want := fmt.Sprintf("cpu: %d online", n)
	for try := 1; ; try++ {
		l := readLines(Start(tb, name, b))
		i := l.waitFor(tb, 0, " online (apic ids", 60*time.Second)
		s := l.since(i - 1)[0]
		if strings.Contains(s, want) {
			return l
		}
		l.r.kill()
		if try == 3 {
			tb.Fatalf("want %d CPUs, three boots gave %q", n, s)
		}
		tb.Logf("boot %d: %q: an AP missed its start-up deadline; booting again", try, s)
	}
}

// dialLines waits for the control agent and connects to it (dialAgent for
// a test reading the console through a lineLog).
func dialLines(tb testing.TB, l *lineLog, sock string) *proto.Client {
	tb.Helper()
	l.waitFor(tb, 0, "(d0) agent: control domain up", 60*time.Second)
	var err error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		var c *proto.Client
		if c, err = proto.Dial(sock, time.Minute); err == nil {
			tb.Cleanup(func() { c.Close() })
			return c
		}
	}
	tb.Fatalf("dialing the agent at %s: %v", sock, err)
	return nil
}

// halt powers Grove off from its console and checks QEMU's exit status.
func (l *lineLog) halt() {
	l.r.tb.Helper()
	l.r.Send("halt\r")
	select {
	case <-l.done:
	case <-time.After(30 * time.Second):
		l.r.kill()
		l.r.tb.Fatalf("Grove did not power off\nserial tail:\n%s", l.r.tail.String())
	}
	l.r.WantStatus(StatusSuccess)
}

// guestBundle writes a boot bundle of grove.toml text toml with the agent
// (guests/agent.elf) and the given images (guests/NAME.elf).
func guestBundle(tb testing.TB, im Images, toml string, images map[string][]byte) string {
	tb.Helper()
	files := goGuests(tb, im, "guests/agent.elf")
	for name, img := range images {
		files["guests/"+name+".elf"] = img
	}
	return bundleFile(tb, toml, files)
}

// goGuests reads the Go guests of im that text names by bundle path
// (guests/agent.elf, guests/heartbeat.elf), for a bundle's files.
func goGuests(tb testing.TB, im Images, text string) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	for name, file := range map[string]string{"guests/heartbeat.elf": im.Heartbeat, "guests/agent.elf": im.Agent} {
		if !strings.Contains(text, name) {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		files[name] = b
	}
	return files
}

// bundleFile writes a boot bundle of grove.toml text toml and files (by
// bundle path), checked by Grove's own parser, to a temporary file and
// returns its path.
func bundleFile(tb testing.TB, toml string, files map[string][]byte) string {
	tb.Helper()
	data, err := bundle.Write([]byte(toml), files)
	if err != nil {
		tb.Fatalf("bundle.Write: %v", err)
	}
	if _, err := bundle.Parse(data); err != nil {
		tb.Fatalf("bundle.Parse: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "bundle.cpio")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// asmImage returns a function that takes a test guest's assembly result
// (asmImage(t)(asm.Spin())) and fails the test on an error.
func asmImage(tb testing.TB) func([]byte, error) []byte {
	return func(img []byte, err error) []byte {
		tb.Helper()
		if err != nil {
			tb.Fatalf("assembling a test guest: %v", err)
		}
		return img
	}
}

// writeFile writes text to a file in a temporary directory.
func writeFile(tb testing.TB, name, text string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
