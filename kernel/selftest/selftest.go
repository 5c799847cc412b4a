// Package selftest runs Grove's in-image tests: packages register named
// checks; `-append selftest` runs them all and reports one line each, then
// `selftest: N passed, M failed`.
package selftest

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Test is one check; it returns nil on success.
type Test struct {
	Name    string // "kernel/goroutines"
	Run     func() error
	Timeout time.Duration // 0 = DefaultTimeout
}

// DefaultTimeout bounds a test that does not set its own.
const DefaultTimeout = 60 * time.Second

var (
	mu    sync.Mutex
	tests []Test
)

// Register adds a test. Names must be unique.
func Register(t Test) {
	mu.Lock()
	defer mu.Unlock()
	for _, o := range tests {
		if o.Name == t.Name {
			panic("selftest: duplicate test " + t.Name)
		}
	}
	tests = append(tests, t)
}

// Run runs the tests whose names contain filter (all if empty; with a
// leading '-', those whose names do not contain the rest), in name order,
// and returns the numbers passed and failed.
func Run(w io.Writer, filter string) (passed, failed int) {
	mu.Lock()
	list := append([]Test(nil), tests...)
	mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	for _, t := range list {
		if !Selected(t.Name, filter) {
			continue
		}
		start := time.Now()
		err := runOne(t)
		if err != nil {
			failed++
			fmt.Fprintf(w, "FAIL %s: %v\n", t.Name, err)
			continue
		}
		passed++
		fmt.Fprintf(w, "ok   %s (%v)\n", t.Name, time.Since(start).Round(time.Millisecond))
	}
	fmt.Fprintf(w, "selftest: %d passed, %d failed\n", passed, failed)
	return passed, failed
}

// Selected says whether filter (as Run takes it) selects the test name.
func Selected(name, filter string) bool {
	if exclude, ok := strings.CutPrefix(filter, "-"); ok && exclude != "" {
		return !strings.Contains(name, exclude)
	}
	return strings.Contains(name, filter)
}

// runOne runs t with a deadline and turns a panic into a failure.
func runOne(t Test) error {
	d := t.Timeout
	if d == 0 {
		d = DefaultTimeout
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v", r)
			}
		}()
		done <- t.Run()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("timed out after %v", d)
	}
}
