package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestQuietFor(t *testing.T) {
	for _, tc := range []struct{ limit, want time.Duration }{
		{90 * time.Second, 30 * time.Second}, // the suite's default
		{360 * time.Second, 2 * time.Minute}, // sieve under Grove
		{30 * time.Second, minQuiet},         // at least minQuiet
		{10 * time.Second, 10 * time.Second}, // never past the limit
	} {
		t.Run(tc.limit.String(), func(t *testing.T) {
			if got := quietFor(tc.limit); got != tc.want {
				t.Errorf("quietFor(%v) = %v, want %v", tc.limit, got, tc.want)
			}
		})
	}
}

// TestRunQuiet: a command that keeps printing runs past quiet; one that
// stops printing is killed once quiet has passed.
func TestRunQuiet(t *testing.T) {
	const quiet = 300 * time.Millisecond
	for _, tc := range []struct {
		name, script string
		hung         bool
	}{
		{"chatty", "for i in 1 2 3 4 5 6; do echo $i; sleep 0.1; done", false},
		{"silent", "echo start; sleep 10; echo never", true},
		{"quick", "echo done", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			act := make(activity, 1)
			cmd := exec.CommandContext(context.Background(), "sh", "-c", tc.script)
			cmd.Stdout = act
			start := time.Now()
			hung, err := runQuiet(cmd, act, quiet)
			took := time.Since(start)
			if hung != tc.hung {
				t.Fatalf("hung = %v (err %v) after %v", hung, err, took)
			}
			if tc.hung && (took < quiet || took > 5*time.Second) {
				t.Errorf("killed after %v, quiet is %v", took, quiet)
			}
			if !tc.hung && err != nil {
				t.Errorf("err %v", err)
			}
		})
	}
}

// TestWatchGroveQuiet: a console that falls silent after the domain's
// creation ends the run as hung, well before its limit; silence while
// Grove boots (before the creation) does not.
func TestWatchGroveQuiet(t *testing.T) {
	const quiet = 200 * time.Millisecond
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	go func() {
		w.WriteString("grove: kernel starting\n")
		time.Sleep(3 * quiet)
		w.WriteString("grove: created d1 (t)\n(d1) working\n")
	}()
	start := time.Now()
	res := watchGrove(r, time.Minute, quiet)
	took := time.Since(start)
	if res.Status != fail || res.Why != "hung: no output for 200ms" || took < 4*quiet || took > 10*time.Second {
		t.Errorf("got %+v after %v", res, took)
	}
}
