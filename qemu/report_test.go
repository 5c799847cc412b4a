package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// make bench's report. Each benchmark records its figures as rows (a figure,
// the baseline it is read against, the target an issue states for it) with
// newReport; each row is also a metric on the benchmark's line. TestMain
// prints every row in one table once the run is over, with the host
// benchmarks of rcu/ and domgrp/ folded in (hostbench_test.go), and writes
// out/bench/report.md and report.csv; each benchmark writes its own rows
// to out/bench/SLUG.csv.

// row is one figure of the report.
type row struct {
	bench, figure, unit string
	value               float64
	base                string  // the baseline's figure, "" if none
	baseValue           float64 // in unit, like value
	target              target
}

// target is what an issue asks of a figure (the zero target: nothing).
type target struct {
	ratio bool   // bounds value/baseValue, else value
	op    string // "<", "<=", ">=" or ">"
	limit float64
	issue int // the issue that states it
}

// atMost and friends are the targets the issues state, on the value;
// onRatio makes one bound the ratio to the row's baseline instead.
func atMost(limit float64, issue int) target  { return target{op: "<=", limit: limit, issue: issue} }
func below(limit float64, issue int) target   { return target{op: "<", limit: limit, issue: issue} }
func atLeast(limit float64, issue int) target { return target{op: ">=", limit: limit, issue: issue} }
func onRatio(t target) target                 { t.ratio = true; return t }

// ratio is value over the baseline, 0 without one.
func (r *row) ratio() float64 {
	if r.base == "" || r.baseValue == 0 {
		return 0
	}
	return r.value / r.baseValue
}

// met says whether the target is met: "yes", "no", or "-" without one.
func (r *row) met() string {
	t := r.target
	if t.op == "" {
		return "-"
	}
	v := r.value
	if t.ratio {
		if r.ratio() == 0 {
			return "no" // no baseline measured: nothing shows it met
		}
		v = r.ratio()
	}
	ok := map[string]bool{"<": v < t.limit, "<=": v <= t.limit, ">=": v >= t.limit, ">": v > t.limit}[t.op]
	if ok {
		return "yes"
	}
	return "no"
}

func (t target) String() string {
	if t.op == "" {
		return "-"
	}
	what := ""
	if t.ratio {
		what = "ratio "
	}
	return fmt.Sprintf("%s%s %s (#%d)", what, t.op, strconv.FormatFloat(t.limit, 'g', -1, 64), t.issue)
}

// vs sets the row's baseline; want its target. Both return the row.
func (r *row) vs(base string, v float64) *row { r.base, r.baseValue = base, v; return r }
func (r *row) want(t target) *row             { r.target = t; return r }

// report holds every row of the run, in the order recorded.
type report struct {
	mu    sync.Mutex
	rows  []*row
	notes []string
}

var benchReport report

// benchRows are one benchmark's rows.
type benchRows struct {
	name string // the benchmark's name without "Benchmark"
	rows []*row
}

// newReport starts b's rows (a rerun of b replaces its rows). When b ends
// they are reported as b's metrics, written to out/bench/SLUG.csv and
// added to the run's report; a failed benchmark is noted.
func newReport(b *testing.B, slug string) *benchRows {
	br := &benchRows{name: strings.TrimPrefix(b.Name(), "Benchmark")}
	b.Cleanup(func() {
		for _, r := range br.rows {
			b.ReportMetric(r.value, metricUnit(r.unit, r.figure))
		}
		if b.Failed() {
			benchReport.note("%s FAILED (its log above says why): its figures are incomplete", br.name)
		}
		benchReport.replace(br.name, br.rows)
		if err := writeCSV(filepath.Join(benchDir(), slug+".csv"), br.rows); err != nil {
			b.Error(err)
		}
	})
	return br
}

// add records a figure.
func (br *benchRows) add(figure, unit string, value float64) *row {
	r := &row{bench: br.name, figure: figure, unit: unit, value: value}
	br.rows = append(br.rows, r)
	return r
}

// verbosef logs detail beside a benchmark's figures, with -v only: go test
// prints a benchmark's log even without -v.
func verbosef(b *testing.B, format string, args ...any) {
	b.Helper()
	if testing.Verbose() {
		b.Logf(format, args...)
	}
}

// note adds a line under the report's table.
func (br *benchRows) note(format string, args ...any) {
	benchReport.note("%s: %s", br.name, fmt.Sprintf(format, args...))
}

func (rp *report) note(format string, args ...any) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.notes = append(rp.notes, fmt.Sprintf(format, args...))
}

// replace puts rows in place of bench's earlier rows, or at the end.
func (rp *report) replace(bench string, rows []*row) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var kept []*row
	for _, r := range rp.rows {
		if r.bench != bench {
			kept = append(kept, r)
		}
	}
	rp.rows = append(kept, rows...)
}

// metricUnit makes a go test metric unit (no spaces) of a row:
// "ms-list-round-trip", "per-s-dom0-idle-exits".
func metricUnit(unit, figure string) string {
	u := strings.NewReplacer("µ", "u", "/", "per-").Replace(unit)
	if u != unit && !strings.HasPrefix(u, "per-") {
		u = strings.Replace(u, "per-", "-per-", 1)
	}
	f := strings.Map(func(c rune) rune {
		switch c {
		case ' ', ',', '(', ')':
			return '-'
		case '\'':
			return -1
		}
		return c
	}, figure)
	for strings.Contains(f, "--") {
		f = strings.ReplaceAll(f, "--", "-")
	}
	return u + "-" + strings.Trim(f, "-")
}

// benchDir is out/bench at the module root, created if need be.
func benchDir() string {
	dir := filepath.Join("..", "out", "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err) // out/ is the build's own directory: nothing to recover
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := benchReport.finish(); err != nil {
		fmt.Fprintf(os.Stderr, "make bench's report: %v\n", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// finish folds in the host benchmarks (if GROVE_HOST_BENCH names their
// output) and, if there is anything to report, prints the table and writes
// report.md and report.csv.
func (rp *report) finish() error {
	if path := os.Getenv("GROVE_HOST_BENCH"); path != "" {
		host, err := hostRows(path)
		if err != nil {
			return err
		}
		rp.rows = append(host, rp.rows...)
	}
	if len(rp.rows) == 0 {
		return nil
	}
	dir := benchDir()
	fmt.Print(rp.text())
	fmt.Printf("(also in %s and report.csv; each benchmark's rows and plots in %s)\n",
		filepath.Join("out", "bench", "report.md"), filepath.Join("out", "bench"))
	if err := writeCSV(filepath.Join(dir, "report.csv"), rp.rows); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(rp.markdown()), 0o644)
}
