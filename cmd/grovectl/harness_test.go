package main

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grove/ctl/fakeagent"
	"grove/ctl/proto"
)

// harness runs grovectl against an in-process fake agent over net.Pipe.
type harness struct {
	t     *testing.T
	agent *fakeagent.Agent
	env   map[string]string

	mu    sync.Mutex
	dials []string   // socket paths grovectl dialed
	far   []net.Conn // the agent ends, for hanging up
}

// newHarness has dom0 and the example's domains, all in the null group.
func newHarness(t *testing.T) *harness {
	a := fakeagent.New()
	for i, name := range []string{"web1", "web2", "db1", "web1-dm"} {
		a.AddDomain(i+1, name, 64)
	}
	return &harness{t: t, agent: a, env: map[string]string{}}
}

func (h *harness) dial(path string, timeout time.Duration) (*proto.Client, error) {
	near, far := net.Pipe()
	h.mu.Lock()
	h.dials = append(h.dials, path)
	h.far = append(h.far, far)
	h.mu.Unlock()
	go func() {
		h.agent.Serve(far)
		far.Close()
	}()
	return proto.NewClient(near, path, timeout), nil
}

// run runs one grovectl command line; the agent's state carries over.
func (h *harness) run(args ...string) (stdout, stderr string, code int) {
	return h.runCtx(context.Background(), args...)
}

func (h *harness) runCtx(ctx context.Context, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, env{
		stdout: &out, stderr: &errOut, dial: h.dial,
		getenv: func(k string) string { return h.env[k] },
	})
	return out.String(), errOut.String(), code
}

// step is one command and what it must produce. out and err list
// substrings, in order; an empty err list means stderr must be empty.
type step struct {
	args  string
	code  int
	out   []string
	err   []string
	calls []string // if set, the ops the agent must have received
}

func (h *harness) check(s step) {
	h.t.Helper()
	before := len(h.agent.Calls())
	out, errOut, code := h.run(strings.Fields(s.args)...)
	if code != s.code {
		h.t.Fatalf("grovectl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", s.args, code, s.code, out, errOut)
	}
	inOrder(h.t, s.args, "stdout", out, s.out)
	inOrder(h.t, s.args, "stderr", errOut, s.err)
	if len(s.err) == 0 && errOut != "" {
		h.t.Fatalf("grovectl %s: unexpected stderr:\n%s", s.args, errOut)
	}
	if s.calls != nil {
		if got := h.agent.Calls()[before:]; !slices.Equal(got, s.calls) {
			h.t.Fatalf("grovectl %s: agent got %q, want %q", s.args, got, s.calls)
		}
	}
}

func inOrder(t *testing.T, args, stream, text string, want []string) {
	t.Helper()
	rest := text
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("grovectl %s: %s lacks %q (in order):\n%s", args, stream, w, text)
		}
		rest = rest[i+len(w):]
	}
}

// runSteps runs each step as a subtest named after its command line, all
// on one harness so state carries from step to step.
func runSteps(t *testing.T, h *harness, steps []step) {
	for _, s := range steps {
		ok := t.Run(s.args, func(t *testing.T) {
			h.t = t
			h.check(s)
		})
		if !ok {
			return
		}
	}
}

const example = "../../examples/groups.toml"
