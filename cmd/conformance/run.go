package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"grove/boot/bundle"
)

// result is one run of one test.
type result struct {
	Status string        // PASS, FAIL or SKIP
	Why    string        // for FAIL and SKIP: the reason, or the suite's summary
	Time   time.Duration // wall time of the test (under Grove: from domain creation)
	Out    string        // what the test printed (under Grove: its domain's lines)
	Retry  string        // the KVM peer's: why a first run was discarded
}

const (
	pass = "PASS"
	fail = "FAIL"
	skip = "SKIP"
)

// kvm-unit-tests' exit codes (lib/report.c report_summary, written to port
// 0xf4 by exit()): 0 all passed, 1 failures, 77>>1 all skipped. QEMU exits
// with (code<<1)|1, so 1, 3 and 77 (scripts/runtime.bash).
const (
	codePass = 0
	codeSkip = 77 >> 1
)

// runner runs tests; qemu is the QEMU binary, image Grove's.
type runner struct {
	qemu, image string
	logs        string  // directory for each run's console log
	scale       float64 // Grove's timeout = the test's * scale
}

// direct runs j under QEMU TCG with the suite's device set and classifies
// the exit as the suite does: status 1 (code 0) passes, 77 skips, a
// timeout or anything else fails; QEMU refusing the parameters before the
// test starts (e.g. "-cpu host" without KVM) is a skip, as the suite's
// premature_failure makes it.
func (r *runner) direct(ctx context.Context, j job) result {
	ctx, cancel := context.WithTimeout(ctx, j.limit)
	defer cancel()
	log, err := os.Create(filepath.Join(r.logs, j.Name+".direct.log"))
	if err != nil {
		return result{Status: fail, Why: err.Error()}
	}
	defer log.Close()
	args := directArgs(j)
	fmt.Fprintf(log, "# %s %s\n", r.qemu, strings.Join(args, " "))
	var out, errOut bytes.Buffer
	act := make(activity, 1)
	cmd := exec.CommandContext(ctx, r.qemu, args...)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(log, &out, act), io.MultiWriter(log, &errOut)
	start := time.Now()
	quiet := quietFor(j.limit)
	hung, err := runQuiet(cmd, act, quiet)
	res := result{Time: time.Since(start)}
	if hung {
		res.Status, res.Why = fail, hungWhy(quiet)
		return res
	}
	code := -1
	var ee *exec.ExitError
	switch {
	case err == nil:
		code = 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		code = ee.ExitCode()
	}
	res.Status, res.Why = classifyDirect(ctx.Err() != nil, code, out.String(), errOut.String(), j.limit)
	res.Out = out.String()
	return res
}

// classifyDirect turns a direct run's end into a result.
func classifyDirect(timedOut bool, code int, out, errOut string, limit time.Duration) (string, string) {
	errs := qemuErrors(errOut)
	switch {
	case timedOut:
		return fail, fmt.Sprintf("timeout; duration=%v", limit)
	case errs != "" && !strings.Contains(out, "\n"):
		return skip, errs // QEMU refused to start it
	case code == (codePass<<1|1) && errs == "":
		return pass, summary(out)
	case code == (codeSkip<<1 | 1):
		return skip, summary(out)
	case code == 0:
		return fail, "no exit status (QEMU ended without isa-debug-exit)"
	}
	return fail, strings.TrimSpace(summary(out) + " " + errs)
}

// qemuErrors is QEMU's stderr without warnings, as the suite ignores them.
func qemuErrors(errOut string) string {
	var keep []string
	for _, l := range strings.Split(errOut, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(strings.ToLower(l), "warning") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "; ")
}

var summaryRE = regexp.MustCompile(`SUMMARY: (.*)`)

// summary is the suite's "SUMMARY: ..." line, in parentheses, or "".
func summary(out string) string {
	m := summaryRE.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return ""
	}
	return "(" + strings.TrimSpace(m[len(m)-1][1]) + ")"
}

// Grove's console lines for the test's domain (hv/destroy.go, cmd/grove).
var (
	createdRE = regexp.MustCompile(`^grove: created d(\d+) `)
	exitedRE  = regexp.MustCompile(`^\(d\d+\) exited with status (\d+)`)
	endedRE   = regexp.MustCompile(`^\(d\d+\) (crashed: .*|shut down \(.*\))`)
	refusedRE = regexp.MustCompile(`^grove: (grove\.toml: .*|boot bundle .* refused.*)`)
)

// groveBoot is the time Grove gets to boot and create the domain, on top
// of the test's own limit.
const groveBoot = 60 * time.Second

// grove runs j as the only domain of a bundle under Grove in QEMU and
// classifies the status the domain wrote to its exit port: 0 passes, 38
// skips (the suite's 77 before QEMU's shift), anything else fails, as do
// a crash, a refusal, a timeout and a hung run (quiet.go). The test's
// limit is scaled when the test counts (it passed directly and is not on
// the known list): nested paging under TCG is slower; one that does not
// count gets its own limit, at most maxUncounted.
func (r *runner) grove(ctx context.Context, j job, counts bool) result {
	limit := min(j.limit, maxUncounted)
	if counts {
		limit = time.Duration(float64(j.limit) * r.scale)
	}
	ctx, cancel := context.WithTimeout(ctx, groveBoot+limit)
	defer cancel()
	dir, err := os.MkdirTemp("", "grove-kut-")
	if err != nil {
		return result{Status: fail, Why: err.Error()}
	}
	defer os.RemoveAll(dir)
	cpio := filepath.Join(dir, "bundle.cpio")
	if err := writeBundle(j, cpio); err != nil {
		return result{Status: fail, Why: err.Error()}
	}
	log, err := os.Create(filepath.Join(r.logs, j.Name+".grove.log"))
	if err != nil {
		return result{Status: fail, Why: err.Error()}
	}
	defer log.Close()
	args := groveArgs(r.image, cpio, j.memoryMB)
	fmt.Fprintf(log, "# %s %s\n# grove.toml:\n%s", r.qemu, strings.Join(args, " "), commented(groveConfig(j)))
	cmd := exec.CommandContext(ctx, r.qemu, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{Status: fail, Why: err.Error()}
	}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		return result{Status: fail, Why: err.Error()}
	}
	res := watchGrove(io.TeeReader(stdout, log), limit, quietFor(limit))
	cmd.Process.Kill()
	cmd.Wait()
	return res
}

// writeBundle writes the one-domain bundle for j.
func writeBundle(j job, path string) error {
	kernel, err := os.ReadFile(j.kernel)
	if err != nil {
		return err
	}
	b, err := bundle.Write(groveConfig(j), map[string][]byte{"x86/" + j.File: kernel})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// groveArgs boots Grove with the bundle: single-threaded TCG on two CPUs
// (docs/qemu-tcg.md: multi-threaded TCG corrupts SVM state now and then),
// room for the domain's RAM beside Grove's.
func groveArgs(image, cpio string, memoryMB int) []string {
	return []string{"-machine", "q35", "-cpu", "max", "-accel", "tcg,thread=single", "-smp", "2",
		"-m", strconv.Itoa(min(memoryMB, maxGroveMemory)+512) + "M", "-display", "none", "-serial", "stdio",
		"-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", image, "-initrd", cpio}
}

// watchGrove reads Grove's console until the domain ends, or limit
// passes after it was created, or it prints nothing for quiet (the reader
// runs until QEMU is killed).
func watchGrove(out io.Reader, limit, quiet time.Duration) result {
	lines := make(chan string)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- strings.TrimRight(sc.Text(), "\r")
		}
	}()
	res := watchLines(lines, limit, quiet)
	go func() { // drain until QEMU dies
		for range lines {
		}
	}()
	return res
}

// watchLines is watchGrove's loop. Both clocks start at the domain's
// creation: before it, Grove's boot (and the domain's memory being
// cleared, slow for gigabytes under a loaded host) has groveBoot.
func watchLines(lines <-chan string, limit, quiet time.Duration) result {
	var started time.Time
	var deadline, silence <-chan time.Time
	var text strings.Builder
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return result{Status: fail, Why: "QEMU ended before the domain did", Time: since(started)}
			}
			text.WriteString(l + "\n")
			if res, done := groveLine(l, &started, &deadline, limit, text.String()); done {
				return res
			}
			if !started.IsZero() {
				silence = time.After(quiet)
			}
		case <-deadline:
			return result{Status: fail, Why: fmt.Sprintf("timeout; duration=%v", limit), Time: since(started)}
		case <-silence:
			return result{Status: fail, Why: hungWhy(quiet), Time: since(started)}
		}
	}
}

// groveLine looks at one console line: the domain's creation starts the
// clock, its exit, crash or shutdown ends the run.
func groveLine(l string, started *time.Time, deadline *<-chan time.Time, limit time.Duration, text string) (result, bool) {
	if createdRE.MatchString(l) && started.IsZero() {
		*started = time.Now()
		*deadline = time.After(limit)
	}
	if m := exitedRE.FindStringSubmatch(l); m != nil {
		code, _ := strconv.ParseUint(m[1], 10, 64)
		res := result{Time: since(*started), Why: summary(text), Out: domainOutput(text)}
		switch code {
		case codePass:
			res.Status = pass
		case codeSkip:
			res.Status = skip
		default:
			res.Status, res.Why = fail, strings.TrimSpace(fmt.Sprintf("status %d %s", code, res.Why))
		}
		return res, true
	}
	if m := endedRE.FindStringSubmatch(l); m != nil {
		return result{Status: fail, Why: m[1], Time: since(*started)}, true
	}
	if m := refusedRE.FindStringSubmatch(l); m != nil {
		return result{Status: fail, Why: "refused: " + m[1]}, true
	}
	return result{}, false
}

var domainLineRE = regexp.MustCompile(`(?m)\(d\d+\) (.*)$`)

// domainOutput is what the domain printed: the text after "(dN) " on each
// line of Grove's console that has it.
func domainOutput(console string) string {
	var b strings.Builder
	for _, m := range domainLineRE.FindAllStringSubmatch(console, -1) {
		b.WriteString(m[1] + "\n")
	}
	return b.String()
}

func since(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return time.Since(t)
}

func commented(b []byte) string {
	return "#   " + strings.ReplaceAll(strings.TrimRight(string(b), "\n"), "\n", "\n#   ") + "\n"
}
