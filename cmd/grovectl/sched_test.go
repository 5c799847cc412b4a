package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"grove/ctl/proto"
)

func TestGroupPolicy(t *testing.T) {
	h := newHarness(t)
	h.agent.SetVCPUs(4, 2) // web1-dm: two vCPUs
	runSteps(t, h, []step{
		{args: "group create 3"},
		{args: "group join 3 web1"},
		{args: "group join 3 web2"},
		{args: "group join 3 web1-dm"},
		{args: "group policy 3 gang", out: []string{"group 3: policy gang\n"}, calls: []string{"group.policy 3 gang 0"}},
		{args: "group policy 3 relaxed", out: []string{"group 3: policy relaxed (skew 30ms)\n"},
			calls: []string{"group.policy 3 relaxed 30000000"}},
		{args: "group policy 3 relaxed --skew 2.5ms", out: []string{"group 3: policy relaxed (skew 2.5ms)\n"},
			calls: []string{"group.policy 3 relaxed 2500000"}},
		{args: "group info 3", out: []string{"policy:", "relaxed (skew 2.5ms)", "members:", "web1(1) web2(2) web1-dm(4)", "opted in:", "-\n"}},
		{args: "group policy 3 none", out: []string{"group 3: policy none\n"}},
		// Refused before anything is sent (exit 2, a command-line mistake).
		{args: "group policy 3 lockstep", code: 2, calls: []string{},
			err: []string{"grovectl: group policy: unknown policy \"lockstep\": want none, gang or relaxed\n"}},
		{args: "group policy 3 gang --skew 5ms", code: 2, calls: []string{},
			err: []string{"grovectl: group policy: --skew is only for policy relaxed, not gang\n"}},
		{args: "group policy 3 none --skew 0s", code: 2, calls: []string{}, err: []string{"only for policy relaxed, not none"}},
		{args: "group policy 3 relaxed --skew 0s", code: 2, calls: []string{},
			err: []string{"grovectl: group policy: skew bound 0s is out of range 1ms..10s\n"}},
		{args: "group policy 3 relaxed --skew 11s", code: 2, calls: []string{}, err: []string{"skew bound 11s is out of range"}},
		{args: "group policy 3 relaxed --skew -1ms", code: 2, calls: []string{}, err: []string{"skew bound -1ms is out of range"}},
		{args: "group policy 3 relaxed --skew soon", code: 2, calls: []string{}, err: []string{`invalid argument "soon" for "--skew"`}},
		{args: "group policy 3", code: 2, calls: []string{}, err: []string{"accepts 2 arg(s)"}},
		// The agent's errors, printed once with the group.
		{args: "group policy 0 gang", code: 1,
			err: []string{"grovectl: group 0: policy gang: operation not permitted (EPERM)\n"}},
		{args: "group policy 9 gang", code: 1,
			err: []string{"grovectl: group 9: policy gang: no such domain or group (ESRCH)\n"}},
		{args: "group policy web gang", code: 1, calls: []string{"group.info 0 name=web"},
			err: []string{"grovectl: group \"web\": no such domain or group (ESRCH)\n"}},
	})
	if info, _ := h.agent.Group(3); info.Policy != "none" || info.SkewNS != 0 {
		t.Fatalf("group 3 left %q/%d", info.Policy, info.SkewNS)
	}
}

// A gang bigger than the CPUs: E2BIG from the agent, with the group named.
func TestGroupPolicyTooBig(t *testing.T) {
	h := newHarness(t)
	h.agent.SetCPUs(2)
	cfg := writeConfig(t, "[[group]]\nname = \"web\"\nid = 3\nmembers = [\"web1\", \"web2\", \"web1-dm\"]\n"+
		"gang = [\"web1\", \"web2\", \"web1-dm\"]\n")
	runSteps(t, h, []step{
		{args: "apply " + cfg, out: []string{"group web (3): policy none\n"}},
		{args: "--config " + cfg + " group policy web gang", code: 1,
			err: []string{"grovectl: group web (3): policy gang: too big for the CPUs (E2BIG)\n"}},
		{args: "--config " + cfg + " group policy web relaxed", out: []string{"group web (3): policy relaxed (skew 30ms)\n"}},
	})
}

func TestGroupStats(t *testing.T) {
	h := newHarness(t)
	h.run("group", "create", "3")
	h.run("group", "join", "3", "web1")
	h.run("group", "join", "3", "web2")
	set := proto.GroupStats{GangTurns: 40, SkewSamples: 38, SkewP50NS: 20_500, SkewP99NS: 300_000, SkewMaxNS: 410_000,
		CoStops: 2, CoStopNS: 7_000_000, LostSlices: 3, VCPUs: []proto.VCPUStats{
			{Domain: 1, AloneNS: 1_000_000, TogetherNS: 9_000_000}, {Domain: 2, VCPU: 1, AloneNS: 0, TogetherNS: 0}}}
	h.agent.SetStats(3, set)
	runSteps(t, h, []step{
		{args: "group policy 3 gang"},
		{args: "group stats 3", out: []string{
			"group:", "group 3\n", "policy:", "gang\n", "gang turns:", "40\n",
			"start skew:", "p50 20.5 µs, p99 300.0 µs, max 410.0 µs (38 samples)\n",
			"co-stops:", "2 (7.0 ms)\n", "lost slices:", "3 (partner blocked)\n",
			"DOMAIN", "VCPU", "ALONE ms", "TOGETHER ms", "TOGETHER %",
			"web1(1)", "0", "1.0", "9.0", "90.0", "web2(2)", "1", "0.0", "0.0", "-"},
			calls: []string{"group.stats 3 false", "list"}},
		{args: "group stats 3 --reset", out: []string{"gang turns:", "40\n", "group 3: counters reset\n"},
			calls: []string{"group.stats 3 true", "list"}},
		{args: "group stats 3", out: []string{"gang turns:", "0\n", "p50 0.0 µs"}},
		{args: "group stats 9", code: 1, err: []string{"grovectl: group 9: stats: no such domain or group (ESRCH)\n"}},
		{args: "group stats", code: 2, err: []string{"accepts 1 arg(s)"}},
	})
}

// The JSON of group stats and group info, field by field.
func TestGroupSchedJSON(t *testing.T) {
	h := newHarness(t)
	h.run("group", "create", "3")
	h.run("group", "join", "3", "web1")
	h.run("group", "join", "3", "web2")
	h.run("group", "policy", "3", "relaxed", "--skew", "4ms")
	h.agent.SetStats(3, proto.GroupStats{CoStops: 5, CoStopNS: 12, VCPUs: []proto.VCPUStats{{Domain: 2, AloneNS: 7, TogetherNS: 8}}})
	out, _, code := h.run("group", "stats", "3", "--json")
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	want := map[string]any{"group": 3.0, "policy": "relaxed", "gang_turns": 0.0, "skew_samples": 0.0,
		"skew_p50_ns": 0.0, "skew_p99_ns": 0.0, "skew_max_ns": 0.0, "co_stops": 5.0, "co_stop_ns": 12.0,
		"lost_slices": 0.0, "vcpus": []any{map[string]any{"domain": 2.0, "vcpu": 0.0, "alone_ns": 7.0, "together_ns": 8.0}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stats --json:\n got %v\nwant %v", got, want)
	}
	out, _, _ = h.run("group", "info", "3", "--json")
	got = nil
	json.Unmarshal([]byte(out), &got)
	for k, v := range map[string]any{"policy": "relaxed", "skew_ns": 4e6, "gang": []any{}, "members": []any{1.0, 2.0}} {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("info --json %s = %v, want %v:\n%s", k, got[k], v, out)
		}
	}
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "groups.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
