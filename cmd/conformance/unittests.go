package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// unittest is one [section] of kvm-unit-tests' x86/unittests.cfg. The
// format is the suite's scripts/common.bash (for_each_unittest): a
// "[name]" line starts a test, "key = value" lines follow; qemu_params
// (or extra_params) may span lines between triple quotes; other lines
// (comments, "#[name]") are ignored. Values stay as written: test_args and
// qemu_params are shell words, which the suite evaluates with eval.
type unittest struct {
	Name       string
	File       string // the kernel, relative to DIR/x86
	SMP        string // "" means 1
	TestArgs   string
	QEMUParams string
	Groups     []string
	Arch       string
	Machine    string
	Check      string
	Accel      string
	Timeout    string
	DisabledIf string
}

var (
	sectionRE = regexp.MustCompile(`^\[(.*)\]$`)
	keyRE     = regexp.MustCompile(`^([a-z_]+) *= *(.*)$`)
)

// parseUnittests reads a unittests.cfg.
func parseUnittests(r io.Reader) ([]unittest, error) {
	var out []unittest
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur *unittest
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if m := sectionRE.FindStringSubmatch(text); m != nil {
			out = append(out, unittest{Name: m[1]})
			cur = &out[len(out)-1]
			continue
		}
		m := keyRE.FindStringSubmatch(text)
		if m == nil || cur == nil {
			continue
		}
		val := m[2]
		if (m[1] == "qemu_params" || m[1] == "extra_params") && strings.HasPrefix(val, `"""`) {
			var err error
			if val, err = multiline(sc, strings.TrimPrefix(val, `"""`), &line); err != nil {
				return nil, fmt.Errorf("unittests.cfg line %d: [%s] %s: %w", line, cur.Name, m[1], err)
			}
		}
		cur.set(m[1], val)
	}
	return out, sc.Err()
}

// multiline collects a triple-quoted value; a backslash at a line's end
// joins it to the next, as the suite's reader does.
func multiline(sc *bufio.Scanner, first string, line *int) (string, error) {
	var b strings.Builder
	text := first
	for {
		if before, ok := strings.CutSuffix(strings.TrimRight(text, " \t"), `"""`); ok {
			b.WriteString(before)
			return b.String(), nil
		}
		if joined, ok := strings.CutSuffix(text, `\`); ok {
			b.WriteString(joined)
		} else {
			b.WriteString(text + "\n")
		}
		if !sc.Scan() {
			return "", fmt.Errorf(`no closing """`)
		}
		*line++
		text = sc.Text()
	}
}

func (u *unittest) set(key, val string) {
	switch key {
	case "file":
		u.File = val
	case "smp":
		u.SMP = val
	case "test_args":
		u.TestArgs = val
	case "qemu_params", "extra_params":
		u.QEMUParams = val
	case "groups":
		u.Groups = strings.Fields(val)
	case "arch":
		u.Arch = val
	case "machine":
		u.Machine = val
	case "check":
		u.Check = val
	case "accel":
		u.Accel = val
	case "timeout":
		u.Timeout = val
	case "disabled_if":
		u.DisabledIf = val
	}
}

// DefaultTimeout is the suite's (scripts/runtime.bash).
const DefaultTimeout = 90 * time.Second

// timeout is the test's limit: a number of seconds with an optional s, m
// or h suffix, as timeout(1) takes it.
func (u *unittest) timeout() (time.Duration, error) {
	if u.Timeout == "" {
		return DefaultTimeout, nil
	}
	s, unit := u.Timeout, time.Second
	switch s[len(s)-1] {
	case 's':
		s = s[:len(s)-1]
	case 'm':
		s, unit = s[:len(s)-1], time.Minute
	case 'h':
		s, unit = s[:len(s)-1], time.Hour
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("[%s] timeout %q: not a duration", u.Name, u.Timeout)
	}
	return time.Duration(f * float64(unit)), nil
}

// vcpus is the test's -smp count (an expression in the cfg is not
// supported: x86's are plain numbers).
func (u *unittest) vcpus() (int, error) {
	if u.SMP == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(u.SMP))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("[%s] smp %q: not a CPU count", u.Name, u.SMP)
	}
	return n, nil
}
