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

// Run runs the tests whose names contain filter (all if empty), in name
// order, and returns the numbers passed and failed.
func Run(w io.Writer, filter string) (passed, failed int) {
	mu.Lock()
	list := append([]Test(nil), tests...)
	mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	for _, t := range list {
		if filter != "" && !strings.Contains(t.Name, filter) {
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
