package main

import (
	"fmt"
	"os/exec"
	"time"
)

// Hung runs. A test that stops printing has hung: kvm-unit-tests print a
// line per check, and the tests that hang under TCG (ioapic, idt_test,
// svm's reg_corruption, debug, ...) do so silently until their limit,
// which is what made a run of the whole suite take over 20 minutes on two
// cores (the issue asks for 15). So a run that prints nothing for a third
// of its limit (at least minQuiet) is ended as hung. The quietest test
// that passes, sieve, computes about 25 s between lines directly and 50 s
// under Grove, against 60 s and 120 s from its 180 s limit.
const minQuiet = 20 * time.Second

// quietFor is how long a run with this limit may print nothing.
func quietFor(limit time.Duration) time.Duration {
	return min(max(limit/3, minQuiet), limit)
}

// hungWhy is the reason a hung run fails.
func hungWhy(quiet time.Duration) string {
	return fmt.Sprintf("hung: no output for %v", quiet)
}

// maxUncounted is the most a Grove run of a test that does not count (it
// did not pass directly, or Grove is known not to pass it) may take: the
// run only shows how far Grove gets. The uncounted tests that pass under
// Grove (vmexit_vmcall, hypercall, pcid-*) take a second or two.
const maxUncounted = 20 * time.Second

// activity is a writer that notes that something was written, without
// blocking the writer.
type activity chan struct{}

func (a activity) Write(p []byte) (int, error) {
	select {
	case a <- struct{}{}:
	default:
	}
	return len(p), nil
}

// runQuiet runs cmd, whose output also goes to act, and kills it when
// act sees nothing for quiet; hung says it did. cmd's context still ends
// it at its limit.
func runQuiet(cmd *exec.Cmd, act activity, quiet time.Duration) (hung bool, err error) {
	cmd.WaitDelay = time.Second // a child still holding the output pipe does not keep Wait waiting
	if err := cmd.Start(); err != nil {
		return false, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(quiet)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return false, err
		case <-act:
			t.Reset(quiet)
		case <-t.C:
			cmd.Process.Kill()
			return true, <-done
		}
	}
}
