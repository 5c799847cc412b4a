package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// vmexitHeader explains the second table wherever it is printed.
const vmexitHeader = "Cycles per exit (TSC ticks of QEMU's TCG, i.e. the host's TSC; one run each): " +
	"Grove, QEMU/KVM nested in the same TCG, their ratio, and the test run directly under TCG " +
	"(no hypervisor: the emulated instruction alone)."

func (c cell) String() string {
	if !c.OK {
		return "-"
	}
	return strconv.FormatInt(c.Cycles, 10)
}

func (e exitRow) ratioString() string {
	if r, ok := e.ratio(); ok {
		return fmt.Sprintf("%.2f", r)
	}
	return "-"
}

func (e exitRow) kind() string {
	if e.Kind == "" {
		return "(" + e.Test + ")"
	}
	return e.Kind
}

// note says why a cell is empty, and what else a cell remarks.
func (e exitRow) note() string {
	var parts []string
	for _, s := range []struct {
		side string
		c    cell
	}{{"grove", e.Grove}, {"kvm", e.KVM}, {"direct", e.Direct}} {
		if s.c.Why != "" {
			parts = append(parts, s.side+": "+s.c.Why)
		}
	}
	return strings.Join(parts, "; ")
}

// writeExitTable prints the exit table as the first table is printed.
func writeExitTable(w io.Writer, rows []exitRow) error {
	fmt.Fprintln(w, vmexitHeader)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EXIT\tGROVE\tKVM_NESTED\tGROVE/KVM\tDIRECT_TCG\tNOTE")
	for _, e := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.kind(), e.Grove, e.KVM, e.ratioString(), e.Direct, e.note())
	}
	return tw.Flush()
}

// writeExitCSV writes vmexit.csv: empty cells where a side has no figure.
func writeExitCSV(w io.Writer, rows []exitRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"test", "exit", "grove_cycles", "kvm_nested_cycles", "grove_over_kvm", "direct_tcg_cycles", "note"})
	for _, e := range rows {
		cw.Write([]string{e.Test, e.Kind, empty(e.Grove.String()), empty(e.KVM.String()), empty(e.ratioString()),
			empty(e.Direct.String()), e.note()})
	}
	cw.Flush()
	return cw.Error()
}

func empty(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// writeExitMarkdown appends the exit table to results.md.
func writeExitMarkdown(w io.Writer, rows []exitRow) error {
	fmt.Fprintf(w, "\n## vmexit: cycles per exit\n\n%s\n\n", vmexitHeader)
	fmt.Fprintln(w, "| exit | Grove | KVM nested | Grove/KVM | direct TCG | note |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|---|")
	for _, e := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", e.kind(), e.Grove, e.KVM, e.ratioString(), e.Direct,
			strings.ReplaceAll(e.note(), "|", `\|`))
	}
	_, err := fmt.Fprintln(w)
	return err
}
