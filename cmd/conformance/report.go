package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one test's line in the report.
type row struct {
	Test          string
	Direct, Grove result
	Known         string // why Grove is expected not to pass it (known.go)
	CPU           string // the -cpu the cfg asks for (Grove's domain sees its own CPUID)
	Ran           bool   // false: skipped before running (both columns say why)
	Extra         bool   // the runner's, not the cfg's: in the exit table only
}

// regression: it passes directly and not under Grove, and is not known.
func (r row) regression() bool {
	return r.Direct.Status == pass && r.Grove.Status != pass && r.Known == ""
}

// counts sums a report.
type counts struct {
	Tests, DirectPass, GrovePass, BothPass, Regressions, Known, DirectFail, DirectSkip int
}

func count(rows []row) counts {
	var c counts
	for _, r := range rows {
		c.Tests++
		switch r.Direct.Status {
		case pass:
			c.DirectPass++
		case fail:
			c.DirectFail++
		default:
			c.DirectSkip++
		}
		if r.Grove.Status == pass {
			c.GrovePass++
			if r.Direct.Status == pass {
				c.BothPass++
			}
		}
		if r.regression() {
			c.Regressions++
		}
		if r.Direct.Status == pass && r.Grove.Status != pass && r.Known != "" {
			c.Known++
		}
	}
	return c
}

func (c counts) String() string {
	return fmt.Sprintf("%d tests: %d pass directly (%d fail, %d skip); %d pass under Grove, %d of them passing directly too; "+
		"%d pass directly but not under Grove (%d known, listed; %d not)",
		c.Tests, c.DirectPass, c.DirectFail, c.DirectSkip, c.GrovePass, c.BothPass, c.Known+c.Regressions, c.Known, c.Regressions)
}

// note is the last column: why either side did not pass.
func (r row) note() string {
	var parts []string
	if r.Direct.Status != pass && r.Direct.Why != "" {
		parts = append(parts, "direct: "+r.Direct.Why)
	}
	if r.Ran && r.Grove.Status != pass && r.Grove.Why != "" {
		parts = append(parts, "grove: "+r.Grove.Why)
	}
	if r.Known != "" {
		parts = append(parts, "known: "+r.Known)
	}
	return strings.Join(parts, "; ")
}

func seconds(r result, ran bool) string {
	if !ran || r.Time == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs", r.Time.Seconds())
}

// writeTable prints the rows as the suite's runner would, one column each
// way.
func writeTable(w io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TEST\tDIRECT\tGROVE\tT_DIRECT\tT_GROVE\tNOTE")
	for _, r := range rows {
		mark := ""
		if r.regression() {
			mark = " !"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\t%s\t%s\t%s\n", r.Test, r.Direct.Status, r.Grove.Status, mark,
			seconds(r.Direct, r.Ran), seconds(r.Grove, r.Ran), r.note())
	}
	return tw.Flush()
}

// writeCSV writes one record per test.
func writeCSV(w io.Writer, rows []row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"test", "direct", "grove", "direct_seconds", "grove_seconds", "direct_reason", "grove_reason", "known", "cpu"})
	for _, r := range rows {
		cw.Write([]string{r.Test, r.Direct.Status, r.Grove.Status, secs(r.Direct.Time), secs(r.Grove.Time),
			r.Direct.Why, r.Grove.Why, r.Known, r.CPU})
	}
	cw.Flush()
	return cw.Error()
}

func secs(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}

// writeMarkdown writes the report as a markdown page: the counts, the
// table, and the known list.
func writeMarkdown(w io.Writer, rows []row, header string) error {
	fmt.Fprintf(w, "# kvm-unit-tests x86: QEMU TCG directly and under Grove\n\n%s\n\n%s.\n\n", header, count(rows))
	fmt.Fprintln(w, "| test | direct | Grove | time direct | time Grove | note |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		g := r.Grove.Status
		if r.regression() {
			g = "**" + g + "**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.Test, r.Direct.Status, g,
			seconds(r.Direct, r.Ran), seconds(r.Grove, r.Ran), strings.ReplaceAll(r.note(), "|", `\|`))
	}
	fmt.Fprintln(w, "\nTests Grove is not expected to pass, and why:")
	fmt.Fprintln(w)
	for _, k := range knownList() {
		fmt.Fprintf(w, "* `%s`: %s\n", k[0], k[1])
	}
	return nil
}
