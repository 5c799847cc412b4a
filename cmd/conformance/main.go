// Command conformance runs kvm-unit-tests' x86 suite twice, directly under
// QEMU's TCG and as a Grove domain (Grove booted in QEMU with a bundle that
// holds the test kernel as its only domain), and reports both side by side
// (docs/conformance.md):
//
//	conformance -kut DIR [-image out/grove.elf] [-out out/conformance] [-run REGEXP] [-all] [-scale F] [-j N]
//	            [-kvm-peer=false] [-linux out/linux] [-kvm-init out/bin/kvminit]
//
// DIR is a kvm-unit-tests build (./configure --arch=x86_64 && make); the
// project neither contains nor downloads the suite. For every test of
// DIR/x86/unittests.cfg that applies to x86_64 under TCG it prints a line
// of progress, then a table (test, result directly, result under Grove,
// time each way, why a side did not pass) on stdout and as results.csv and
// results.md in the output directory, with each run's console log in
// logs/. A run that prints nothing for a third of its limit has hung and
// fails (quiet.go). The vmexit tests run a third time, under QEMU/KVM
// nested in the same TCG (the KVM peer, peerrun.go), and a second table
// puts the cycles per exit they print side by side (vmexit.go), also as
// vmexit.csv. It exits 1 when a test passes directly but not under Grove
// and is not on the known list (known.go), 2 when it cannot run (no DIR,
// no image), 0 otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// usage is printed when the suite is missing.
const usage = `conformance: needs a kvm-unit-tests build to run: make conformance KUT=DIR
  DIR is a clone of https://github.com/kvm-unit-tests/kvm-unit-tests built with
  ./configure --arch=x86_64 && make   (see docs/conformance.md)
`

type options struct {
	kut, image, out, qemu string
	run                   *regexp.Regexp
	all                   bool
	scale                 float64
	jobs                  int
	peer                  peerConfig
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, code := parseFlags(args, stderr)
	if code >= 0 {
		return code
	}
	tests, err := loadTests(o)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	if err := os.MkdirAll(filepath.Join(o.out, "logs"), 0o755); err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	r := &runner{qemu: o.qemu, image: o.image, logs: filepath.Join(o.out, "logs"), scale: o.scale}
	extra := len(slices.DeleteFunc(slices.Clone(tests), func(j job) bool { return !j.extra }))
	more := ""
	if extra > 0 {
		more = fmt.Sprintf(" and %d more vmexit kinds for the exit table", extra)
	}
	fmt.Fprintf(stdout, "conformance: %d tests from %s%s, each directly under QEMU TCG and under Grove (%s), %d at a time\n",
		len(tests)-extra, filepath.Join(o.kut, "x86", "unittests.cfg"), more, o.image, o.jobs)
	rows := runAll(context.Background(), r, tests, o.jobs, stdout)
	exits := exitTable(r, o.peer, tests, rows, stdout)
	cfgRows := slices.DeleteFunc(slices.Clone(rows), func(r row) bool { return r.Extra })
	return report(cfgRows, exits, o, stdout, stderr)
}

// exitTable runs the vmexit tests in the KVM peer and builds the exit
// table (none without vmexit tests).
func exitTable(r *runner, pc peerConfig, tests []job, rows []row, stdout io.Writer) []exitRow {
	pj := peerJobs(tests)
	if len(pj) == 0 {
		return nil
	}
	if pc.on {
		fmt.Fprintf(stdout, "        KVM peer: %d vmexit tests under QEMU/KVM in Linux in QEMU TCG\n", len(pj))
	}
	kvm, why := r.kvmPeer(context.Background(), pc, pj, stdout)
	return vmexitRows(rows, kvm, why)
}

func parseFlags(args []string, stderr io.Writer) (options, int) {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{}
	fs.StringVar(&o.kut, "kut", os.Getenv("KUT"), "kvm-unit-tests build directory (default $KUT)")
	fs.StringVar(&o.image, "image", "out/grove.elf", "Grove image (make image)")
	fs.StringVar(&o.out, "out", "out/conformance", "directory for results.csv, results.md and logs/")
	fs.StringVar(&o.qemu, "qemu", "qemu-system-x86_64", "QEMU binary")
	filter := fs.String("run", "", "run only the tests whose name matches this regular expression")
	fs.BoolVar(&o.all, "all", false, "also run the tests the suite marks nodefault")
	fs.Float64Var(&o.scale, "scale", 2, "Grove's time limit for a test that passed directly is the test's times this (nested paging under TCG is slower)")
	fs.IntVar(&o.jobs, "j", 1, "tests run at once (more than 1 skews the timings on a small machine)")
	fs.BoolVar(&o.peer.on, "kvm-peer", true, "run the vmexit tests under QEMU/KVM nested in TCG too, for the exit table")
	fs.StringVar(&o.peer.linux, "linux", "out/linux", "the KVM peer's kernel and KVM modules (make linux)")
	fs.StringVar(&o.peer.init, "kvm-init", "out/bin/kvminit", "the KVM peer's /init, cmd/conformance/kvminit built with CGO_ENABLED=0")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return o, 2
	}
	if o.kut == "" {
		fmt.Fprint(stderr, usage)
		return o, 2
	}
	var err error
	if o.run, err = regexp.Compile(*filter); err != nil {
		fmt.Fprintf(stderr, "conformance: -run: %v\n", err)
		return o, 2
	}
	if _, err := os.Stat(o.image); err != nil {
		fmt.Fprintf(stderr, "conformance: Grove image: %v (make image builds it)\n", err)
		return o, 2
	}
	if o.jobs < 1 || o.scale <= 0 {
		fmt.Fprintln(stderr, "conformance: -j and -scale must be positive")
		return o, 2
	}
	return o, -1
}

// loadTests reads the suite's x86 configuration and prepares each test
// the filter keeps.
func loadTests(o options) ([]job, error) {
	cfg := filepath.Join(o.kut, "x86", "unittests.cfg")
	f, err := os.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, usage)
	}
	defer f.Close()
	tests, err := parseUnittests(f)
	if err != nil {
		return nil, err
	}
	if flats, _ := filepath.Glob(filepath.Join(o.kut, "x86", "*.flat")); len(flats) == 0 {
		return nil, fmt.Errorf("no x86/*.flat in %s: build the suite first\n%s", o.kut, usage)
	}
	var jobs []job
	for _, u := range tests {
		if o.run.MatchString(u.Name) {
			jobs = append(jobs, prepare(u, o.kut, o.all))
		}
	}
	for _, u := range extraVMExitTests(tests) {
		if o.run.MatchString(u.Name) {
			j := prepare(u, o.kut, o.all)
			j.extra = true
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// runAll runs the jobs, n at a time, printing progress, and returns the
// rows in configuration order.
func runAll(ctx context.Context, r *runner, jobs []job, n int, out io.Writer) []row {
	rows := make([]row, len(jobs))
	var mu sync.Mutex
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	done := 0
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if j.skip == "" {
				mu.Lock()
				fmt.Fprintf(out, "        %s: running (%d vCPUs, limit %v directly, %v under Grove if it passes directly and is not known, else %v; "+
					"hung after %v without output)\n", j.Name, j.vcpus, j.limit, time.Duration(float64(j.limit)*r.scale),
					min(j.limit, maxUncounted), quietFor(j.limit))
				mu.Unlock()
			}
			rows[i] = runOne(ctx, r, j)
			mu.Lock()
			defer mu.Unlock()
			done++
			progress(out, done, len(jobs), rows[i])
		}()
	}
	wg.Wait()
	return rows
}

// runOne runs j directly, then under Grove.
func runOne(ctx context.Context, r *runner, j job) row {
	rw := row{Test: j.Name, Known: known[j.Name], CPU: cpuModel(j.params), Extra: j.extra}
	if j.skip != "" {
		rw.Direct = result{Status: skip, Why: j.skip}
		rw.Grove = rw.Direct
		return rw
	}
	rw.Ran = true
	rw.Direct = r.direct(ctx, j)
	rw.Grove = r.grove(ctx, j, rw.Direct.Status == pass && rw.Known == "")
	return rw
}

func progress(w io.Writer, i, n int, r row) {
	if !r.Ran {
		fmt.Fprintf(w, "[%2d/%d] %-44s SKIP (%s)\n", i, n, r.Test, r.Direct.Why)
		return
	}
	mark := ""
	if r.regression() {
		mark = "  <- passes directly only"
	}
	fmt.Fprintf(w, "[%2d/%d] %-44s direct %s %6s   grove %s %6s%s\n", i, n, r.Test,
		r.Direct.Status, seconds(r.Direct, true), r.Grove.Status, seconds(r.Grove, true), mark)
}

// report prints the table and writes the files; its result is the exit
// status.
func report(rows []row, exits []exitRow, o options, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout)
	writeTable(stdout, rows)
	c := count(rows)
	fmt.Fprintf(stdout, "\n%s\n", c)
	if len(exits) > 0 {
		fmt.Fprintln(stdout)
		writeExitTable(stdout, exits)
	}
	header := fmt.Sprintf("Run %s on %d CPUs: QEMU %s; Grove %s; suite %s.", time.Now().Format("2006-01-02 15:04"),
		runtime.NumCPU(), qemuVersion(o.qemu), o.image, o.kut)
	if err := writeFiles(rows, exits, o.out, header); err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	wrote := []string{"results.csv", "results.md"}
	if len(exits) > 0 {
		wrote = append(wrote, "vmexit.csv")
	}
	fmt.Fprintf(stdout, "wrote %s in %s\n", strings.Join(wrote, ", "), o.out)
	if c.Regressions > 0 {
		fmt.Fprintf(stderr, "conformance: %d tests pass directly but not under Grove (marked !)\n", c.Regressions)
		return 1
	}
	return 0
}

func writeFiles(rows []row, exits []exitRow, dir, header string) error {
	files := map[string]func(io.Writer) error{
		"results.csv": func(w io.Writer) error { return writeCSV(w, rows) },
		"results.md": func(w io.Writer) error {
			if err := writeMarkdown(w, rows, header); err != nil || len(exits) == 0 {
				return err
			}
			return writeExitMarkdown(w, exits)
		},
	}
	if len(exits) > 0 {
		files["vmexit.csv"] = func(w io.Writer) error { return writeExitCSV(w, exits) }
	}
	for name, write := range files {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func qemuVersion(qemu string) string {
	out, err := exec.Command(qemu, "--version").Output()
	if err != nil {
		return "(unknown version)"
	}
	var v string
	fmt.Sscanf(string(out), "QEMU emulator version %s", &v)
	return v
}
