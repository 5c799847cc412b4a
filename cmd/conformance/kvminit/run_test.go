package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"grove/cmd/conformance/peer"
)

// TestRunTest runs shell scripts in QEMU's place and reads back what the
// init printed, as the runner does.
func TestRunTest(t *testing.T) {
	silentLimit = 300 * time.Millisecond
	for _, tc := range []struct {
		name, script string
		timeout      time.Duration
		want         peer.Outcome
	}{
		{"exit", "echo cpuid 5; echo warning >&2; exit 3", time.Minute,
			peer.Outcome{Out: "cpuid 5\n", Err: "warning\n", Ended: true, Code: 3}},
		{"pass", "printf 'a\\r\\nb\\n'; exit 1", time.Minute, peer.Outcome{Out: "a\nb\n", Ended: true, Code: 1}},
		{"timeout", "echo hi; exec sleep 10", 500 * time.Millisecond, peer.Outcome{Out: "hi\n", Ended: true, TimedOut: true}},
		{"silent", "exec sleep 10", time.Minute,
			peer.Outcome{Ended: true, Silent: true, Retry: "the first run printed nothing in 300ms and was killed"}},
		{"missing", "", time.Minute, peer.Outcome{Ended: true, Failed: "fork/exec /nonexistent: no such file or directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qemu = "/nonexistent"
			if tc.script != "" {
				qemu = filepath.Join(t.TempDir(), "qemu")
				os.WriteFile(qemu, []byte("#!/bin/sh\n"+tc.script+"\n"), 0o755)
			}
			var con bytes.Buffer
			runTest(&con, peer.Test{Name: "t", Timeout: tc.timeout})
			got := peer.Parse(con.String()).Tests["t"]
			if got == nil {
				t.Fatalf("nothing about t in %q", con.String())
			}
			got.Time = 0
			if *got != tc.want {
				t.Errorf("console %q\n got %+v\nwant %+v", con.String(), *got, tc.want)
			}
		})
	}
}
