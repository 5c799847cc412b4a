package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The vmexit tests (kvm-unit-tests x86/vmexit.c do_test) time each exit
// kind they are asked for with the TSC and print one line per kind:
//
//	cpuid 69712              NAME CYCLES, per iteration
//	  ipi self_ipi_tpr 1234  the IPI part of a self-IPI test
//	  eoi self_ipi_tpr 567   its EOI part
//	tscdeadline (skipped)    the CPU lacks what the kind needs
//
// CYCLES is printed with %d of an int, so it may be negative after an
// overflow; it is kept as printed.

// extraExits are vmexit.flat's kinds that unittests.cfg does not run but
// that say most about an exit path: port I/O answered in the hypervisor's
// kernel (inl_from_kernel, outl_to_kernel: the 8259's ELCR at 0x4d0) and
// by nothing there (inl_from_qemu, port 0x1234: QEMU's user space under
// KVM, the unclaimed-port path in Grove). The runner adds one test for
// each, for the exit table only (extraVMExitTests).
var extraExits = []string{"inl_from_qemu", "inl_from_kernel", "outl_to_kernel"}

// extraVMExitTests are the extra tests, modelled on the cfg's
// vmexit_cpuid (none without it), unless the cfg has them already.
func extraVMExitTests(cfg []unittest) []unittest {
	i := slices.IndexFunc(cfg, func(u unittest) bool { return u.Name == "vmexit_cpuid" })
	if i < 0 {
		return nil
	}
	var out []unittest
	for _, kind := range extraExits {
		name := "vmexit_" + kind
		if !slices.ContainsFunc(cfg, func(u unittest) bool { return u.Name == name }) {
			u := cfg[i]
			u.Name, u.TestArgs = name, kind
			out = append(out, u)
		}
	}
	return out
}

// isVMExit: the cfg names every vmexit.flat test vmexit_KIND.
func isVMExit(test string) bool { return strings.HasPrefix(test, "vmexit_") }

// figure is one such line.
type figure struct {
	Kind    string // NAME, or NAME/ipi, NAME/eoi
	Cycles  int64
	Skipped bool
}

var figureRE = regexp.MustCompile(`^(  (ipi|eoi) )?([A-Za-z0-9_.-]+) (-?\d{1,18}|\(skipped\))$`)

// parseFigures reads the figures out of a test's output; other lines are
// ignored.
func parseFigures(out string) []figure {
	var figs []figure
	for _, l := range strings.Split(out, "\n") {
		m := figureRE.FindStringSubmatch(strings.TrimRight(l, "\r \t"))
		if m == nil {
			continue
		}
		f := figure{Kind: m[3], Skipped: m[4] == "(skipped)"}
		if m[2] != "" {
			f.Kind += "/" + m[2]
		}
		if !f.Skipped {
			f.Cycles, _ = strconv.ParseInt(m[4], 10, 64)
		}
		figs = append(figs, f)
	}
	return figs
}

// cell is one side's figure for one exit kind, or why there is none.
type cell struct {
	Cycles int64
	OK     bool
	Why    string // without a figure: why; with one: a remark, if any
}

// exitRow is one exit kind of one test, measured three ways.
type exitRow struct {
	Test, Kind         string
	Grove, KVM, Direct cell
}

// ratio is Grove's cycles over KVM's, when both exist.
func (e exitRow) ratio() (float64, bool) {
	if !e.Grove.OK || !e.KVM.OK || e.KVM.Cycles <= 0 {
		return 0, false
	}
	return float64(e.Grove.Cycles) / float64(e.KVM.Cycles), true
}

// vmexitRows builds the table from the vmexit tests' rows and the peer's
// results (nil with peerWhy when the peer did not run): one row per exit
// kind any side printed, in the order printed; a test no side printed a
// figure for gets one row that says why.
func vmexitRows(rows []row, kvm map[string]result, peerWhy string) []exitRow {
	var out []exitRow
	for _, r := range rows {
		if !r.Ran || !isVMExit(r.Test) {
			continue
		}
		k, ok := kvm[r.Test]
		if !ok {
			k = result{Status: fail, Why: "KVM peer " + peerWhy}
		}
		sides := [3][]figure{parseFigures(r.Grove.Out), parseFigures(k.Out), parseFigures(r.Direct.Out)}
		kinds := kindsOf(sides)
		if len(kinds) == 0 {
			kinds = []string{""}
		}
		for _, kind := range kinds {
			out = append(out, exitRow{Test: r.Test, Kind: kind,
				Grove: cellOf(sides[0], kind, r.Grove), KVM: cellOf(sides[1], kind, k), Direct: cellOf(sides[2], kind, r.Direct)})
		}
	}
	return out
}

// kindsOf lists the kinds the sides printed, each once, in order.
func kindsOf(sides [3][]figure) []string {
	var kinds []string
	seen := map[string]bool{}
	for _, figs := range sides {
		for _, f := range figs {
			if !seen[f.Kind] {
				seen[f.Kind] = true
				kinds = append(kinds, f.Kind)
			}
		}
	}
	return kinds
}

// cellOf finds kind among one side's figures (the last, if printed more
// than once; NAME/ipi and NAME/eoi are skipped with NAME); without it the
// cell says how that side's run ended.
func cellOf(figs []figure, kind string, res result) cell {
	c := cell{Why: "no figure printed"}
	if res.Status != pass {
		c.Why = strings.Join(slices.DeleteFunc([]string{res.Status, res.Why, exception(res.Out)},
			func(s string) bool { return s == "" }), " ")
	}
	base, _, _ := strings.Cut(kind, "/")
	for _, f := range figs {
		switch {
		case f.Skipped && (f.Kind == kind || f.Kind == base):
			c = cell{Why: "skipped by the test"}
		case f.Kind == kind:
			c = cell{Cycles: f.Cycles, OK: true}
			if res.Retry != "" {
				c.Why = "retried: " + res.Retry
			}
		}
	}
	return c
}

// exception is the suite's report of an unexpected exception (lib/x86
// desc.c: "Unhandled exception 6 #UD(0) at ip ..."), if the test printed
// one, up to the address.
func exception(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Unhandled exception") {
			l, _, _ = strings.Cut(l, " at ip")
			return "(" + strings.TrimSpace(l) + ")"
		}
	}
	return ""
}
