package qemu

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The report's forms: a table for the terminal, Markdown, CSV.

var reportHeader = []string{"benchmark", "figure", "value", "baseline", "ratio", "target", "met"}

// cells are a row's columns as the table and Markdown show them.
func (r *row) cells() []string {
	base, ratio := "-", "-"
	if r.base != "" {
		base = r.base + ": " + quantity(r.baseValue, r.unit)
		ratio = num(r.ratio()) + "x"
	}
	return []string{r.bench, r.figure, quantity(r.value, r.unit), base, ratio, r.target.String(), r.met()}
}

// larger is the next larger unit of a time unit.
var larger = map[string]string{"ns": "µs", "µs": "ms", "ms": "s"}

// quantity shows v in unit, or in a larger time unit from 10,000 on.
func quantity(v float64, unit string) string {
	for larger[unit] != "" && (v >= 1e4 || v <= -1e4) {
		v, unit = v/1e3, larger[unit]
	}
	return num(v) + " " + unit
}

// summary counts the figures and the targets met and missed.
func (rp *report) summary() string {
	met, missed := 0, 0
	for _, r := range rp.rows {
		switch r.met() {
		case "yes":
			met++
		case "no":
			missed++
		}
	}
	return fmt.Sprintf("%d figures, %d with a target: %d met, %d missed", len(rp.rows), met+missed, met, missed)
}

// text is the table printed at the end of the run.
func (rp *report) text() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nmake bench report: %s (ratio = value / baseline; targets from the issues named)\n\n", rp.summary())
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(reportHeader, "\t"))
	last := ""
	for _, r := range rp.rows {
		c := r.cells()
		if c[0] == last {
			c[0] = "" // the benchmark's name once, on its first row
		}
		last = r.bench
		fmt.Fprintln(tw, strings.Join(c, "\t"))
	}
	tw.Flush()
	for _, n := range rp.notes {
		fmt.Fprintf(&sb, "note: %s\n", n)
	}
	return sb.String()
}

// markdown is report.md: the table, the notes and the files beside it.
func (rp *report) markdown() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# make bench\n\n%s. The ratio is the value over the baseline, measured in the same run; "+
		"each target is the one the issue named states (#N).\n\n", rp.summary())
	fmt.Fprintf(&sb, "| %s |\n|%s\n", strings.Join(reportHeader, " | "), strings.Repeat("---|", len(reportHeader)))
	for _, r := range rp.rows {
		c := r.cells()
		for i := range c {
			c[i] = strings.ReplaceAll(c[i], "|", `\|`)
		}
		fmt.Fprintf(&sb, "| %s |\n", strings.Join(c, " | "))
	}
	if len(rp.notes) > 0 {
		sb.WriteString("\nNotes:\n\n")
		for _, n := range rp.notes {
			fmt.Fprintf(&sb, "- %s\n", n)
		}
	}
	var files []string
	for _, ext := range []string{"csv", "svg", "txt"} {
		m, _ := filepath.Glob(filepath.Join(benchDir(), "*."+ext))
		files = append(files, m...)
	}
	if len(files) > 0 {
		sb.WriteString("\nFiles in out/bench:")
		for _, f := range files {
			fmt.Fprintf(&sb, " [%[1]s](%[1]s)", filepath.Base(f))
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// writeCSV writes rows with their values at full precision.
func writeCSV(path string, rows []*row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"benchmark", "figure", "unit", "value", "baseline", "baseline_value", "ratio", "target", "met"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range rows {
		base, ratio := "", ""
		if r.base != "" {
			base, ratio = g(r.baseValue), g(r.ratio())
		}
		w.Write([]string{r.bench, r.figure, r.unit, g(r.value), r.base, base, ratio, r.target.String(), r.met()})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// num prints a figure with three or four significant digits, no exponent.
func num(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case a >= 100 || a == 0:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
