package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"grove/ctl/proto"
)

func TestDomainCommands(t *testing.T) {
	h := newHarness(t)
	runSteps(t, h, []step{
		{args: "list", out: []string{"ID", "NAME", "STATE", "0", "dom0", "running", "web1", "db1", "4", "web1-dm", "64 MiB"},
			calls: []string{"list"}},
		{args: "pause web1", out: []string{"domain web1 (1): paused\n"}, calls: []string{"list", "pause 1"}},
		{args: "pause 1", out: []string{"domain 1: paused\n"}, calls: []string{"pause 1"}},
		{args: "unpause web1", out: []string{"domain web1 (1): unpaused\n"}},
		{args: "unpause 1", out: []string{"domain 1: unpaused\n"}},
		{args: "unpause 1", code: 1, err: []string{"grovectl: domain 1: invalid argument (EINVAL)\n"}},
		{args: "pause 99", code: 1, err: []string{"grovectl: domain 99: no such domain or group (ESRCH)\n"}},
		{args: "pause web9", code: 1, err: []string{`grovectl: domain "web9": no such domain or group (ESRCH)`}},
		{args: "destroy web2", out: []string{"domain web2 (2): destroyed\n"}, calls: []string{"list", "destroy 2"}},
		{args: "destroy 2", code: 1, err: []string{"grovectl: domain 2: no such domain or group (ESRCH)"}},
		{args: "destroy 0", code: 1, err: []string{"grovectl: domain 0: operation not permitted (EPERM)"}},
	})
}

func TestUsageErrors(t *testing.T) {
	h := newHarness(t)
	usage := "Run 'grovectl --help' for usage."
	runSteps(t, h, []step{
		{args: "pause", code: 2, err: []string{"accepts 1 arg(s), received 0", usage}, calls: []string{}},
		{args: "pause 1 2", code: 2, err: []string{"accepts 1 arg(s)"}},
		{args: "pause 70000", code: 2, err: []string{"domain 70000: ids are 0..65535"}, calls: []string{}},
		{args: "list extra", code: 2, err: []string{`unknown command "extra"`}},
		{args: "frobnicate", code: 2, err: []string{`unknown command "frobnicate"`}},
		{args: "list --bogus", code: 2, err: []string{"unknown flag: --bogus", usage}},
		{args: "pause --json 1", code: 2, err: []string{"unknown flag: --json"}},
		{args: "group", code: 2, err: []string{"group: missing subcommand"}},
		{args: "group frob", code: 2, err: []string{`unknown command "frob" for "grovectl group"`}},
		{args: "group create x", code: 2, err: []string{`group create: "x" is not a group id`}},
		{args: "group create 1 2", code: 2, err: []string{"accepts between 0 and 1 arg(s)"}},
		{args: "group info 300", code: 2, err: []string{"group 300: ids are 0..255"}},
		{args: "group create --name Web", code: 2, err: []string{`group create: "Web" is not a group name`}},
		{args: "group create --name null", code: 2, err: []string{`group create: "null" is not a group name`}},
		{args: "group join 1", code: 2, err: []string{"accepts 2 arg(s)"}},
		{args: "events --count -1", code: 2, err: []string{"--count must not be negative"}},
		{args: "apply", code: 2, err: []string{"accepts 1 arg(s)"}},
		{args: "--timeout x list", code: 2, err: []string{"invalid argument"}},
	})
	if len(h.dials) != 0 {
		t.Fatalf("usage errors dialed the agent: %v", h.dials)
	}
}

func TestHelp(t *testing.T) {
	h := newHarness(t)
	out, _, code := h.run("--help")
	if code != 0 || !strings.Contains(out, "group") || !strings.Contains(out, "--socket") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestListJSON(t *testing.T) {
	h := newHarness(t)
	h.run("pause", "db1")
	out, _, code := h.run("list", "--json")
	var doms []proto.DomainInfo
	if err := json.Unmarshal([]byte(out), &doms); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if len(doms) != 5 || doms[3] != (proto.DomainInfo{ID: 3, Name: "db1", State: "paused", PauseCount: 1, MemoryMB: 64}) {
		t.Fatalf("got %+v", doms)
	}
}

// TestListExited: a domain that ended through its exit port shows its
// status, in the table and as exit_status in JSON.
func TestListExited(t *testing.T) {
	h := newHarness(t)
	h.agent.Exit(4, 3)
	out, _, code := h.run("list")
	if code != 0 || !strings.Contains(out, "shutdown (exit 3)") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, _, _ = h.run("list", "--json")
	var doms []proto.DomainInfo
	if err := json.Unmarshal([]byte(out), &doms); err != nil || len(doms) != 5 {
		t.Fatalf("%v:\n%s", err, out)
	}
	if s := doms[4].ExitStatus; s == nil || *s != 3 || doms[3].ExitStatus != nil || !strings.Contains(out, `"exit_status": 3`) {
		t.Fatalf("exit statuses %v %v:\n%s", doms[3].ExitStatus, s, out)
	}
}

func TestSocketChoice(t *testing.T) {
	tests := []struct {
		env, flag, want string
	}{
		{"", "", "out/grove.sock"},
		{"/run/a.sock", "", "/run/a.sock"},
		{"/run/a.sock", "/tmp/b.sock", "/tmp/b.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			h := newHarness(t)
			h.env["GROVE_SOCKET"] = tt.env
			args := []string{"list"}
			if tt.flag != "" {
				args = append(args, "--socket", tt.flag)
			}
			if _, errOut, code := h.run(args...); code != 0 || len(h.dials) != 1 || h.dials[0] != tt.want {
				t.Fatalf("exit %d, dialed %v, want %s; %s", code, h.dials, tt.want, errOut)
			}
		})
	}
}

func TestDialError(t *testing.T) {
	var errOut strings.Builder
	code := run(context.Background(), []string{"--socket", t.TempDir() + "/none.sock", "list"}, env{
		stdout: &strings.Builder{}, stderr: &errOut, getenv: func(string) string { return "" }, dial: proto.Dial,
	})
	if code != 1 || !strings.Contains(errOut.String(), "none.sock: cannot connect (is Grove running?)") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

// An agent that never answers must not hang grovectl.
func TestTimeout(t *testing.T) {
	start := time.Now()
	var errOut strings.Builder
	code := run(context.Background(), []string{"--timeout", "100ms", "list"}, env{
		stdout: &strings.Builder{}, stderr: &errOut, getenv: func(string) string { return "" },
		dial: func(path string, timeout time.Duration) (*proto.Client, error) {
			near, _ := silentPipe()
			return proto.NewClient(near, path, timeout), nil
		},
	})
	if code != 1 || !strings.Contains(errOut.String(), "out/grove.sock: list: no answer from the agent") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}
