package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestApply(t *testing.T) {
	h := newHarness(t)
	runSteps(t, h, []step{
		{args: "apply " + example, out: []string{
			"group web (3): created\n",
			"group web (3): joined domain web1 (1)\n",
			"group web (3): joined domain web2 (2)\n",
			"group web (3): joined domain web1-dm (4)\n",
			"group web (3): gang on for domain web1 (1)\n",
			"group web (3): gang on for domain web2 (2)\n",
			"group web (3): gang off for domain web1-dm (4)\n",
			"group web (3): policy gang\n",
			"group db (1): created\n",
			"group db (1): joined domain db1 (3)\n",
			"group db (1): gang off for domain db1 (3)\n",
			"group db (1): policy none\n",
		}, calls: []string{"list", "group.info 0 name=web", "group.info 3", "group.create 3 name=web", "group.join 3 1",
			"group.join 3 2", "group.join 3 4", "group.gang 1 true", "group.gang 2 true", "group.gang 4 false",
			"group.policy 3 gang 0", "group.info 0 name=db", "group.create 0 name=db", "group.join 1 3", "group.gang 3 false",
			"group.policy 1 none 0", "reactions.set"}},
		// Idempotent: the second run finds everything in place.
		{args: "apply " + example, out: []string{
			"group web (3): exists\n",
			"group web (3): domain web1 (1) already a member\n",
			"group db (1): exists\n",
			"group db (1): domain db1 (3) already a member\n",
		}, calls: []string{"list", "group.info 0 name=web", "group.gang 1 true", "group.gang 2 true", "group.gang 4 false",
			"group.policy 3 gang 0", "group.info 0 name=db", "group.gang 3 false", "group.policy 1 none 0", "reactions.set"}},
		{args: "--config " + example + " group info web", out: []string{"group web (3)", "policy:", "gang",
			"web1(1) web2(2) web1-dm(4)", "opted in:", "web1(1) web2(2)\n"}},
		{args: "--config " + example + " group info db", out: []string{"group db (1)", "db1(3)"}},
		{args: "--config " + example + " group list", out: []string{"0", "null", "none", "dom0(0)", "1", "db", "none", "db1(3)", "3", "web", "gang", "web1(1)"}},
		{args: "--config " + example + " group info mail", code: 1, err: []string{`grovectl: group "mail": no such domain or group (ESRCH)`}},
		// The hypervisor knows the names: no config needed.
		{args: "group info web", out: []string{"group web (3)", "MEMBER", "STATE", "FLAGS", "web1(1)", "running", "gang\n",
			"web2(2)", "running", "gang\n", "web1-dm(4)", "running", "-\n"}},
		{args: "group list", out: []string{"0", "null", "1", "db", "3", "web"}},
	})
	if _, gang, _ := h.agent.Domain(1); !gang {
		t.Fatal("web1 not gang-scheduled")
	}
}

func TestApplyErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.toml")
	os.WriteFile(missing, []byte("[[group]]\nname = \"web\"\nmembers = [\"web1\", \"web9\", \"web8\"]\n"), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[[group]]\nname = \"web\"\nmembers = [\"a\"]\n[[order]]\ngroup = \"web\"\nfirst = \"a\"\nthen = \"a\"\n"), 0o644)
	syntax := filepath.Join(dir, "syntax.toml")
	os.WriteFile(syntax, []byte("[[group]]\nname = web\n"), 0o644)
	h := newHarness(t)
	runSteps(t, h, []step{
		{args: "apply " + missing, code: 1, calls: []string{"list"}, err: []string{
			`grovectl: group web: domain "web9": no such domain or group (ESRCH)`,
			`group web: domain "web8": no such domain or group (ESRCH)`}},
		{args: "apply " + bad, code: 1, calls: []string{},
			err: []string{`grovectl: bad.toml: ordering rules for group "web" form a cycle: a -> a`}},
		{args: "apply " + syntax, code: 1, err: []string{"grovectl: syntax.toml:2: "}},
		{args: "apply " + filepath.Join(dir, "none.toml"), code: 1, err: []string{"none.toml: no such file"}},
		{args: "--config " + bad + " group pause 1", code: 1, err: []string{"cycle: a -> a"}},
		{args: "--config " + example + " group info db", code: 1,
			err: []string{"grovectl: group db: not created yet (grovectl apply): no such domain or group (ESRCH)"}},
	})
}

// With the config's ordering rule, a group pause is one hypervisor pause
// carrying the rule's order: web1 before its device model web1-dm, then
// the unnamed web2 (the hypervisor puts it last); unpause walks it back.
func TestOrderedPause(t *testing.T) {
	h := newHarness(t)
	cfg := "--config " + example + " "
	runSteps(t, h, []step{
		{args: "apply " + example, out: []string{"group db (1): gang off"}},
		{args: cfg + "group pause web", out: []string{"group web (3): paused (3 members) in order web1(1) web1-dm(4) web2(2)\n"},
			calls: []string{"group.info 0 name=web", "group.info 3", "list", "group.pause 3 order=1,4"}},
		{args: "group list", out: []string{"3", "web", "yes (count 1)", "gang", "web1(1) web2(2) web1-dm(4)"}},
		{args: "group info web --json", out: []string{`"paused": true`, `"pause_count": 1`}},
		{args: cfg + "group unpause 3", out: []string{"group web (3): unpaused (3 members) in order web2(2) web1-dm(4) web1(1)\n"},
			calls: []string{"group.info 3", "group.info 3", "list", "group.unpause 3 order=1,4"}},
		{args: cfg + "group unpause web", code: 1, out: []string{},
			err: []string{"grovectl: group web (3): invalid argument (EINVAL)\n"}},
		// No rules for db: no order.
		{args: cfg + "group pause db", out: []string{"group db (1): paused (1 members)\n"},
			calls: []string{"group.info 0 name=db", "group.pause 1"}},
		// Without the config, by name: the unpause walks back the order
		// the pause recorded.
		{args: cfg + "group pause web", out: []string{"in order web1(1) web1-dm(4) web2(2)"}},
		{args: "group unpause web", out: []string{"group web (3): unpaused (3 members)\n"},
			calls: []string{"group.info 0 name=web", "group.unpause 3"}},
		// A member outside the config comes after the ordered ones; one the
		// rules name that left is skipped.
		{args: "group join 3 db1", out: []string{"joined"}},
		{args: "group leave web1-dm", out: []string{"left"}},
		{args: cfg + "group pause web", out: []string{"paused (3 members) in order web1(1) web2(2) db1(3)\n"},
			err: []string{"grovectl: group web (3): web1-dm is not a member now, skipped\n"}},
	})
}

// The hypervisor's pause is all or nothing: a member that cannot take
// another pause fails it, and nothing is left paused.
func TestOrderedPauseRollback(t *testing.T) {
	h := newHarness(t)
	h.run("apply", example)
	for range 255 {
		h.run("pause", "4")
	}
	runSteps(t, h, []step{
		{args: "--config " + example + " group pause web", code: 1, out: []string{},
			err:   []string{"grovectl: group web (3): count would overflow (EOVERFLOW)\n"},
			calls: []string{"group.info 0 name=web", "group.info 3", "list", "group.pause 3 order=1,4"}},
	})
	for _, id := range []int{1, 2} {
		if d, _, _ := h.agent.Domain(id); d.PauseCount != 0 {
			t.Fatalf("domain %d left paused: %+v", id, d)
		}
	}
	if g, _ := h.agent.Group(3); g.Paused {
		t.Fatalf("group paused after a failed pause: %+v", g)
	}
}

// apply sets a group's policy after its joins and opt-ins, so the gang is
// checked with its final members; a gang that cannot fit stops apply there.
func TestApplyPolicy(t *testing.T) {
	dir := t.TempDir()
	relaxed := filepath.Join(dir, "relaxed.toml")
	os.WriteFile(relaxed, []byte("[[group]]\nname = \"db\"\nid = 4\nmembers = [\"db1\", \"web1\"]\n"+
		"gang = [\"db1\", \"web1\"]\npolicy = \"relaxed\"\nskew = \"5ms\"\n"), 0o644)
	big := filepath.Join(dir, "big.toml")
	os.WriteFile(big, []byte("[[group]]\nname = \"web\"\nid = 3\nmembers = [\"web1\", \"web2\", \"web1-dm\"]\n"+
		"gang = [\"web1\", \"web2\", \"web1-dm\"]\npolicy = \"gang\"\n"), 0o644)
	skewOnGang := filepath.Join(dir, "skew.toml")
	os.WriteFile(skewOnGang, []byte("[[group]]\nname = \"web\"\nmembers = [\"web1\"]\npolicy = \"gang\"\nskew = \"5ms\"\n"), 0o644)
	h := newHarness(t)
	runSteps(t, h, []step{
		{args: "apply " + relaxed, out: []string{"group db (4): created\n", "joined domain db1 (3)\n", "joined domain web1 (1)\n",
			"gang on for domain db1 (3)\n", "gang on for domain web1 (1)\n", "group db (4): policy relaxed (skew 5ms)\n"},
			calls: []string{"list", "group.info 0 name=db", "group.info 4", "group.create 4 name=db", "group.join 4 3", "group.join 4 1",
				"group.gang 3 true", "group.gang 1 true", "group.policy 4 relaxed 5000000", "reactions.set"}},
		{args: "group info 4 --json", out: []string{`"policy": "relaxed"`, `"skew_ns": 5000000`, `"gang": [`}},
		{args: "apply " + big, code: 1, out: []string{"gang on for domain web1-dm (4)\n"},
			err: []string{"grovectl: group web (3): policy gang: too big for the CPUs (E2BIG)\n"}},
		{args: "apply " + skewOnGang, code: 1, calls: []string{},
			err: []string{`grovectl: skew.toml: group[0]: skew: only for policy "relaxed" (group "web" has policy "gang")`}},
	})
}
