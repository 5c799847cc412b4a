package main

import (
	"context"
	"testing"
	"time"

	"grove/ctl/proto"
)

// emitAfterSubscribe sends evs once grovectl has subscribed, then runs
// after (if any).
func (h *harness) emitAfterSubscribe(t *testing.T, evs []proto.Event, after func()) {
	go func() {
		deadline := time.Now().Add(5 * time.Second)
		for !h.agent.Subscribed() {
			if time.Now().After(deadline) {
				t.Error("grovectl never subscribed")
				return
			}
			time.Sleep(time.Millisecond)
		}
		for _, ev := range evs {
			h.agent.Emit(ev)
		}
		if after != nil {
			after()
		}
	}()
}

func TestEvents(t *testing.T) {
	h := newHarness(t)
	h.emitAfterSubscribe(t, []proto.Event{
		{Kind: proto.EventCrashed, Domain: 2, Reason: "triple fault at rip=0x1000"},
		{Kind: proto.EventShutdown, Domain: 3},
		{Kind: proto.EventPaused, Domain: 9},
	}, nil)
	h.check(step{args: "events --count 3", out: []string{
		"crashed: domain web2, group 0: triple fault at rip=0x1000\n",
		"shutdown: domain db1, group 0\n",
		"paused: domain 9, group 0\n",
	}})
}

func TestEventsJSON(t *testing.T) {
	h := newHarness(t)
	h.emitAfterSubscribe(t, []proto.Event{{Kind: proto.EventCrashed, Domain: 2, Group: 3, Reason: "x"}}, nil)
	h.check(step{args: "events --json --count 1",
		out: []string{`{"event":"crashed","domain":2,"group":3,"reason":"x"}` + "\n"}})
}

// With a config, events trigger its reactions: a crashed web member pauses
// web in the rule's order, a crashed db member is destroyed, a shutdown
// with no reaction is only printed.
func TestEventsReactions(t *testing.T) {
	h := newHarness(t)
	h.run("apply", example)
	h.agent.Crash(2)
	h.emitAfterSubscribe(t, []proto.Event{
		{Kind: proto.EventCrashed, Domain: 2, Group: 3, Reason: "triple fault"},
		{Kind: proto.EventCrashed, Domain: 3, Group: 1, Reason: "unhandled #PF"},
		{Kind: proto.EventShutdown, Domain: 4, Group: 3},
	}, nil)
	h.check(step{args: "--config " + example + " events --count 3", out: []string{
		"crashed: domain web2, group 3: triple fault\n",
		"reaction: group web, crashed web2: pause-group\n",
		"group web (3): paused (3 members) in order web1(1) web1-dm(4) web2(2)\n",
		"crashed: domain db1, group 1: unhandled #PF\n",
		"reaction: group db, crashed db1: destroy-domain\n",
		"domain db1 (3): destroyed\n",
		"shutdown: domain web1-dm, group 3\n",
	}})
	if _, _, ok := h.agent.Domain(3); ok {
		t.Fatal("db1 not destroyed")
	}
}

// Under --json the reactions' narration goes to stderr.
func TestEventsJSONReactions(t *testing.T) {
	h := newHarness(t)
	h.run("apply", example)
	h.emitAfterSubscribe(t, []proto.Event{{Kind: proto.EventCrashed, Domain: 3, Group: 1}}, nil)
	h.check(step{args: "--config " + example + " events --json --count 1",
		out: []string{`{"event":"crashed","domain":3,"group":1}` + "\n"},
		err: []string{"reaction: group db, crashed db1: destroy-domain\n", "domain db1 (3): destroyed\n"}})
}

func TestEventsReactionDestroyGroup(t *testing.T) {
	h := newHarness(t)
	h.run("group", "create", "4")
	h.run("group", "join", "4", "web1")
	h.run("group", "join", "4", "web2")
	cfg := t.TempDir() + "/g.toml"
	writeFile(t, cfg, "[[group]]\nname = \"web\"\nid = 4\nmembers = [\"web1\", \"web2\"]\n"+
		"[[reaction]]\non = \"shutdown\"\ngroup = \"web\"\ndo = \"destroy-group\"\n")
	h.emitAfterSubscribe(t, []proto.Event{{Kind: proto.EventShutdown, Domain: 1, Group: 4}}, nil)
	h.check(step{args: "--config " + cfg + " events --count 1", out: []string{
		"reaction: group web, shutdown web1: destroy-group\n",
		"domain web1 (1): destroyed\n", "domain web2 (2): destroyed\n", "group web (4): destroyed\n",
	}})
}

// A failed reaction is reported; the stream goes on. The crashed domain
// is gone, so its group is found by the id the event carries.
func TestEventsReactionFails(t *testing.T) {
	h := newHarness(t)
	cfg := t.TempDir() + "/g.toml"
	writeFile(t, cfg, "[[group]]\nname = \"web\"\nid = 3\nmembers = [\"web1\", \"web2\"]\n"+
		"[[reaction]]\non = \"crashed\"\ngroup = \"web\"\ndo = \"destroy-domain\"\n")
	h.run("apply", cfg)
	h.run("destroy", "2")
	h.emitAfterSubscribe(t, []proto.Event{
		{Kind: proto.EventCrashed, Domain: 2, Group: 3},
		{Kind: proto.EventShutdown, Domain: 1, Group: 3},
	}, nil)
	h.check(step{args: "--config " + cfg + " events --count 2",
		out: []string{"crashed: domain 2, group 3\n", "reaction: group web, crashed 2: destroy-domain\n", "shutdown: domain web1"},
		err: []string{"grovectl: reaction destroy-domain: domain 2: no such domain or group (ESRCH)\n"}})
}

func TestEventsHangup(t *testing.T) {
	h := newHarness(t)
	h.emitAfterSubscribe(t, []proto.Event{{Kind: proto.EventPaused, Domain: 1}}, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.far {
			c.Close()
		}
	})
	h.check(step{args: "events", code: 1, out: []string{"paused: domain"},
		err: []string{"grovectl: out/grove.sock: connection closed by the agent\n"}})
}

func TestEventsInterrupted(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	h.emitAfterSubscribe(t, nil, cancel)
	out, errOut, code := h.runCtx(ctx, "events")
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := osWriteFile(path, text); err != nil {
		t.Fatal(err)
	}
}
