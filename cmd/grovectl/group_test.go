package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"grove/ctl/proto"
)

func TestGroupCommands(t *testing.T) {
	h := newHarness(t)
	runSteps(t, h, []step{
		{args: "group create", out: []string{"group 1: created\n"}, calls: []string{"group.create 0"}},
		{args: "group create 7", out: []string{"group 7: created\n"}, calls: []string{"group.create 7"}},
		{args: "group create 7", code: 1, err: []string{"grovectl: group 7: already exists (EEXIST)\n"}},
		{args: "group create 256", code: 1, err: []string{"grovectl: group 256: invalid argument (EINVAL)"}},
		{args: "group destroy 9", code: 1, err: []string{"grovectl: group 9: no such domain or group (ESRCH)\n"}},
		{args: "group destroy 0", code: 1, err: []string{"grovectl: group 0: operation not permitted (EPERM)"}},
		{args: "group join 7 web1", out: []string{"domain web1 (1): joined group 7\n"}, calls: []string{"list", "group.join 7 1"}},
		{args: "group join 7 2", out: []string{"domain 2: joined group 7\n"}},
		{args: "group join 9 web1", code: 1, err: []string{"grovectl: group 9: join domain web1 (1): no such domain or group (ESRCH)"}},
		{args: "group join 7 nosuch", code: 1, err: []string{`grovectl: domain "nosuch": no such domain or group (ESRCH)`}},
		{args: "group destroy 7", code: 1, err: []string{"grovectl: group 7: busy (EBUSY)"}},
		{args: "group pause 7", out: []string{"group 7: paused (2 members)\n"}, calls: []string{"group.pause 7"}},
		{args: "group info 7", out: []string{"group:", "group 7", "paused:", "yes (count 1)", "flags:", "0x2", "members:", "web1(1) web2(2)"}},
		{args: "group pause 0", code: 1, err: []string{"grovectl: group 0: operation not permitted (EPERM)"}},
		{args: "group unpause 7", out: []string{"group 7: unpaused (2 members)\n"}},
		{args: "group unpause 7", code: 1, err: []string{"grovectl: group 7: invalid argument (EINVAL)"}},
		{args: "group info 9", code: 1, err: []string{"grovectl: group 9: no such domain or group (ESRCH)"}},
		{args: "group list", out: []string{"GROUP", "NAME", "PAUSED", "MEMBERS", "0", "null", "no", "dom0(0) db1(3) web1-dm(4)",
			"1", "-", "no", "-", "7", "-", "no", "web1(1) web2(2)"}},
		{args: "group leave web1", out: []string{"domain web1 (1): left its group\n"}, calls: []string{"list", "group.leave 1"}},
		{args: "group leave 42", code: 1, err: []string{"grovectl: domain 42: leave: no such domain or group (ESRCH)"}},
		{args: "group destroy 1", out: []string{"group 1: destroyed\n"}},
	})
}

func TestGroupInfoJSON(t *testing.T) {
	h := newHarness(t)
	h.run("group", "create", "5")
	h.run("group", "join", "5", "db1")
	out, _, code := h.run("group", "info", "5", "--json")
	var info proto.GroupInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if info.ID != 5 || len(info.Members) != 1 || info.Members[0] != 3 {
		t.Fatalf("got %+v", info)
	}
}

// More groups than one group.list page: grovectl must follow "next".
func TestGroupListPages(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 100; i++ {
		if _, errOut, code := h.run("group", "create", fmt.Sprint(i)); code != 0 {
			t.Fatalf("create %d: %s", i, errOut)
		}
	}
	out, _, code := h.run("group", "list", "--json")
	var infos []proto.GroupInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if len(infos) != 101 || infos[100].ID != 100 {
		t.Fatalf("got %d groups", len(infos))
	}
}
