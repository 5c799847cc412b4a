// Package peer is what the conformance runner and its KVM peer's /init
// (cmd/conformance/kvminit) say to each other (docs/conformance.md). The
// runner puts the tests in the initramfs as JSON (Test); the init runs each
// under QEMU/KVM inside a Linux guest of QEMU's TCG and reports on the
// guest's console in lines that begin with Prefix, which Parse reads back.
//
// The console is the guest kernel's serial port: a line can be cut short,
// or have kernel messages in front of it, so Parse finds the prefix
// anywhere in a line and takes what it can.
package peer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Test is one QEMU run inside the peer: Args follow the QEMU binary.
type Test struct {
	Name    string        `json:"name"`
	Args    []string      `json:"args"`
	Timeout time.Duration `json:"timeout"`
}

// TestsFile is where the runner puts the JSON list of Tests.
const TestsFile = "/tests.json"

// Prefix begins every line the init prints for the runner.
const Prefix = "kvm-peer: "

// Console lines, after Prefix:
//
//	TEST out: LINE        QEMU's standard output (the test's serial port)
//	TEST err: LINE        QEMU's standard error
//	TEST exit CODE MS     QEMU ended with CODE after MS milliseconds
//	TEST timeout MS       the init killed QEMU after its timeout
//	TEST silent MS        the init killed QEMU after SilentLimit without a
//	                      line on its standard output, twice
//	TEST retry: WHY       the first run was killed so; what follows is the
//	                      second run's
//	TEST failed: WHY      QEMU could not be started
//	setup failed: WHY     the init could not prepare KVM (nothing runs)
//	done                  all tests ran
func Out(test, line string) string { return fmt.Sprintf("%s%s out: %s\n", Prefix, test, line) }

// Err reports a line of QEMU's standard error.
func Err(test, line string) string { return fmt.Sprintf("%s%s err: %s\n", Prefix, test, line) }

// Exit reports how QEMU ended.
func Exit(test string, code int, d time.Duration) string {
	return fmt.Sprintf("%s%s exit %d %d\n", Prefix, test, code, d.Milliseconds())
}

// Timeout reports a QEMU the init had to kill.
func Timeout(test string, d time.Duration) string {
	return fmt.Sprintf("%s%s timeout %d\n", Prefix, test, d.Milliseconds())
}

// SilentLimit is how long a test kernel may take to print its first line
// before the init kills QEMU and, once, runs it again: a test prints
// within seconds of QEMU's start, but now and then a nested QEMU hangs
// before the kernel begins (docs/conformance.md).
const SilentLimit = time.Minute

// Silent reports a QEMU killed for printing nothing, on its second run.
func Silent(test string, d time.Duration) string {
	return fmt.Sprintf("%s%s silent %d\n", Prefix, test, d.Milliseconds())
}

// Retry says the test runs again, and why.
func Retry(test, why string) string {
	return fmt.Sprintf("%s%s retry: %s\n", Prefix, test, oneLine(why))
}

// Failed reports a QEMU that did not start.
func Failed(test string, err error) string {
	return fmt.Sprintf("%s%s failed: %s\n", Prefix, test, oneLine(err.Error()))
}

// SetupFailed reports an init that could not load KVM or read its tests.
func SetupFailed(err error) string { return Prefix + "setup failed: " + oneLine(err.Error()) + "\n" }

// Done is the last line of a complete run.
const Done = Prefix + "done\n"

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// Outcome is what the console said about one test.
type Outcome struct {
	Out, Err string        // QEMU's output, newline-terminated lines
	Ended    bool          // an exit, timeout or failed line was seen
	Code     int           // QEMU's exit status (with Ended, no TimedOut, no Failed)
	TimedOut bool          // killed after its timeout
	Silent   bool          // killed twice for printing nothing (SilentLimit)
	Retry    string        // why the first run was discarded, if it was
	Failed   string        // could not start, and why
	Time     time.Duration // how long QEMU ran
}

// Report is the whole console, parsed.
type Report struct {
	Tests map[string]*Outcome
	Order []string // test names in the order first seen
	Setup string   // the setup failure, if any
	Done  bool
}

var (
	lineRE  = regexp.MustCompile(`^(\S+) (out|err): ?(.*)$`)
	endRE   = regexp.MustCompile(`^(\S+) (exit (-?\d+)|timeout|silent) (\d+)$`)
	failRE  = regexp.MustCompile(`^(\S+) failed: (.*)$`)
	retryRE = regexp.MustCompile(`^(\S+) retry: (.*)$`)
)

// Parse reads a console transcript; lines without Prefix are ignored.
func Parse(console string) Report {
	r := Report{Tests: map[string]*Outcome{}}
	for _, l := range strings.Split(console, "\n") {
		_, l, ok := strings.Cut(strings.TrimRight(l, "\r"), Prefix)
		if ok {
			r.line(l)
		}
	}
	return r
}

func (r *Report) line(l string) {
	switch {
	case l == "done":
		r.Done = true
	case strings.HasPrefix(l, "setup failed: "):
		r.Setup = strings.TrimPrefix(l, "setup failed: ")
	case lineRE.MatchString(l):
		m := lineRE.FindStringSubmatch(l)
		o := r.test(m[1])
		if m[2] == "out" {
			o.Out += m[3] + "\n"
		} else {
			o.Err += m[3] + "\n"
		}
	case endRE.MatchString(l):
		m := endRE.FindStringSubmatch(l)
		o := r.test(m[1])
		o.Ended, o.TimedOut, o.Silent = true, m[2] == "timeout", m[2] == "silent"
		o.Code, _ = strconv.Atoi(m[3])
		ms, _ := strconv.ParseInt(m[4], 10, 64)
		o.Time = time.Duration(min(ms, int64(time.Duration(1<<63-1)/time.Millisecond))) * time.Millisecond
	case retryRE.MatchString(l):
		m := retryRE.FindStringSubmatch(l)
		*r.test(m[1]) = Outcome{Retry: m[2]}
	case failRE.MatchString(l):
		m := failRE.FindStringSubmatch(l)
		o := r.test(m[1])
		o.Ended, o.Failed = true, m[2]
	}
}

func (r *Report) test(name string) *Outcome {
	o := r.Tests[name]
	if o == nil {
		o = &Outcome{}
		r.Tests[name] = o
		r.Order = append(r.Order, name)
	}
	return o
}
