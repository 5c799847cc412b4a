package qemu

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The host benchmarks of rcu/ and domgrp/ run in their own go test
// processes before the QEMU ones (make bench writes their output to
// out/bench/host-bench.txt and names it in GROVE_HOST_BENCH); hostRows
// reads that output and makes the report's rows of it.

// hostMetrics are the figures of go test -bench output: by "pkg/name"
// (the package's last element, the benchmark's name without its
// -GOMAXPROCS suffix), each metric by unit.
type hostMetrics map[string]map[string]float64

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseHostBench reads go test -bench output (plain, not -json).
func parseHostBench(r io.Reader) (hostMetrics, error) {
	m := hostMetrics{}
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "pkg:":
			pkg = path.Base(f[1])
		case len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark"):
			if _, err := strconv.Atoi(f[1]); err != nil {
				continue // not a result line
			}
			name := pkg + "/" + procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
			m[name] = map[string]float64{}
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return nil, fmt.Errorf("%s: metric %q: %v", f[0], f[i], err)
				}
				m[name][f[i+1]] = v
			}
		}
	}
	return m, sc.Err()
}

// hostFigure is one row made from the host figures: name's metric unit,
// against base's (same unit), with the target an issue states.
type hostFigure struct {
	bench, figure, name string
	baseFigure, base    string
	unit                string
	target              target
}

// hostFigures are the rows of the report. The read side is read in CPU
// time, as rcu's own report does: on a shared host the wall clock mostly
// measures waiting for a CPU.
var hostFigures = []hostFigure{
	{"rcu ReadSide", "RCU read section (CPU time)", "rcu/ReadSide/dep-rcu", "dependent load alone", "rcu/ReadSide/dep-load", "cpu-ns/op", onRatio(atMost(2, 12))},
	{"rcu ReadSide", "RWMutex read section (CPU time)", "rcu/ReadSide/dep-rwmutex", "RCU read section", "rcu/ReadSide/dep-rcu", "cpu-ns/op", onRatio(atLeast(5, 12))},
	{"rcu ReadSide", "RCU read section, fenced flavour", "rcu/ReadSide/dep-rcu-fenced", "dependent load alone", "rcu/ReadSide/dep-load", "cpu-ns/op", target{}},
	{"rcu Synchronize", "Synchronize, membarrier, no reader", "rcu/Synchronize/membarrier/readers=0", "", "", "ns/op", target{}},
	{"rcu Synchronize", "Synchronize, membarrier, 8 readers", "rcu/Synchronize/membarrier/readers=8", "no reader", "rcu/Synchronize/membarrier/readers=0", "ns/op", target{}},
	{"rcu Synchronize", "Synchronize, fenced, no reader", "rcu/Synchronize/fenced/readers=0", "", "", "ns/op", target{}},
	{"rcu Synchronize", "Synchronize, fenced, 8 readers", "rcu/Synchronize/fenced/readers=8", "no reader", "rcu/Synchronize/fenced/readers=0", "ns/op", target{}},
	{"domgrp PauseGroup", "pause per member, 8 members", "domgrp/PauseGroup/members=8", "", "", "ns/member", target{}},
	{"domgrp PauseGroup", "pause per member, 512 members", "domgrp/PauseGroup/members=512", "8 members", "domgrp/PauseGroup/members=8", "ns/member", onRatio(atMost(1.5, 4))},
	{"domgrp PauseGroup", "ordered pause per member, 8 members", "domgrp/PauseGroupOrdered/members=8", "unordered", "domgrp/PauseGroup/members=8", "ns/member", target{}},
	{"domgrp PauseGroup", "ordered pause per member, 512 members", "domgrp/PauseGroupOrdered/members=512", "unordered", "domgrp/PauseGroup/members=512", "ns/member", target{}},
	{"domgrp SnapshotRead", "find a domain's group and walk it", "domgrp/SnapshotRead", "", "", "ns/op", target{}},
}

// hostRows reads the host benchmarks' output at file and returns their
// rows (and notes any figure missing from it), writing each package's
// rows to out/bench/PKG.csv.
func hostRows(file string) ([]*row, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("the host benchmarks' output: %w", err)
	}
	defer f.Close()
	m, err := parseHostBench(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var rows []*row
	byPkg := map[string][]*row{}
	for _, h := range hostFigures {
		v, ok := m[h.name][h.unit]
		bv, bok := m[h.base][h.unit]
		if !ok || (h.base != "" && !bok) {
			benchReport.note("%s: %s not measured (no %s %s in %s)", h.bench, h.figure, h.name, h.unit, file)
			continue
		}
		r := &row{bench: h.bench, figure: h.figure, unit: "ns", value: v, target: h.target}
		if h.base != "" {
			r.vs(h.baseFigure, bv)
		}
		rows = append(rows, r)
		pkg, _, _ := strings.Cut(h.bench, " ")
		byPkg[pkg] = append(byPkg[pkg], r)
	}
	for pkg, rs := range byPkg {
		if err := writeCSV(filepath.Join(benchDir(), pkg+".csv"), rs); err != nil {
			return nil, err
		}
	}
	return rows, nil
}
