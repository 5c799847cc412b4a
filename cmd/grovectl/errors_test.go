package main

import (
	"fmt"
	"strings"
	"testing"

	"grove/ctl/fakeagent"
	"grove/ctl/proto"
	"grove/errno"
)

// Every way a command can fail, each printed once: one line, "grovectl: ",
// the object the command names (once), the action when the agent refused
// it, then the cause. The agent's refusal carries no object of its own; a
// transport error names the socket and, for a deadline, the op.
func TestErrorsPrintOnce(t *testing.T) {
	cfg := "--config " + example + " "
	for _, tc := range []struct {
		args   string // run after apply example (web 3, db 1)
		op     string // the op that fails
		object string // "" or "group web (3): "
		action string // added to a refusal only
	}{
		{"list", proto.OpList, "", "list: "},
		{"pause web1", proto.OpList, `domain "web1": `, "list: "},
		{"pause web1", proto.OpPause, "domain web1 (1): ", ""},
		{"pause 1", proto.OpPause, "domain 1: ", ""},
		{"unpause 1", proto.OpUnpause, "domain 1: ", ""},
		{"destroy 2", proto.OpDestroy, "domain 2: ", ""},
		{"group create", proto.OpGroupCreate, "group create: ", ""},
		{"group create 7", proto.OpGroupCreate, "group 7: ", ""},
		{"group create --name mail", proto.OpGroupCreate, "group mail: ", ""},
		{"group create 7 --name mail", proto.OpGroupCreate, "group mail (7): ", ""},
		{"group destroy 3", proto.OpGroupDestroy, "group 3: ", ""},
		{"group destroy web", proto.OpGroupInfo, `group "web": `, ""},
		{"group info 3", proto.OpGroupInfo, "group 3: ", ""},
		{"group join 3 web1", proto.OpGroupJoin, "group 3: ", "join domain web1 (1): "},
		{"group join web web1", proto.OpList, `domain "web1": `, "list: "},
		{"group leave web1", proto.OpGroupLeave, "domain web1 (1): ", "leave: "},
		{"group pause 3", proto.OpGroupPause, "group 3: ", ""},
		{"group unpause web", proto.OpGroupUnpause, "group web (3): ", ""},
		{cfg + "group pause web", proto.OpGroupPause, "group web (3): ", ""},
		{cfg + "group pause web", proto.OpList, "group web (3): ", "list: "},
		{cfg + "group pause 3", proto.OpGroupPause, "group web (3): ", ""},
		{"group list", proto.OpGroupList, "", "group list: "},
		{"group list", proto.OpGroupInfo, "group 0: ", ""},
		{"group policy 3 gang", proto.OpGroupPolicy, "group 3: ", "policy gang: "},
		{"group stats web", proto.OpGroupStats, "group web (3): ", "stats: "},
		{"events", proto.OpEventSubscribe, "", "events: "},
		{"apply " + example, proto.OpReactionsSet, "", "reactions: "},
		{"apply " + example, proto.OpGroupGang, "group web (3): ", "gang domain web1 (1): "},
	} {
		for _, f := range []struct {
			name  string
			fault fakeagent.Fault
			cause string
		}{
			{"refused", fakeagent.Fault{Kind: fakeagent.Refuse, Errno: errno.EPERM}, tc.action + "operation not permitted (EPERM)"},
			{"hangup", fakeagent.Fault{Kind: fakeagent.HangUp}, "out/grove.sock: connection closed by the agent"},
			{"silent", fakeagent.Fault{Kind: fakeagent.Silent},
				"out/grove.sock: " + tc.op + ": no answer from the agent: context deadline exceeded"},
		} {
			t.Run(fmt.Sprintf("%s/%s/%s", tc.args, tc.op, f.name), func(t *testing.T) {
				h := newHarness(t)
				h.run("apply", example)
				h.agent.SetFault(tc.op, f.fault)
				_, errOut, code := h.run(append([]string{"--timeout", "200ms"}, strings.Fields(tc.args)...)...)
				want := "grovectl: " + tc.object + f.cause + "\n"
				if code != exitOp || errOut != want {
					t.Fatalf("exit %d, stderr:\n%q\nwant exit 1 and\n%q", code, errOut, want)
				}
			})
		}
	}
}

// The agent's own refusals, through its real errnos, as in the issue:
// each object once.
func TestAgentErrorsPrintOnce(t *testing.T) {
	h := newHarness(t)
	h.run("apply", example)
	for _, tc := range []struct{ args, want string }{
		{"group pause 0", "grovectl: group 0: operation not permitted (EPERM)\n"},
		{"group unpause null", "grovectl: group null (0): operation not permitted (EPERM)\n"},
		{"group pause 9", "grovectl: group 9: no such domain or group (ESRCH)\n"},
		{"group destroy web", "grovectl: group web (3): busy (EBUSY)\n"},
		{"group create --name web", "grovectl: group web: already exists (EEXIST)\n"},
		{"group create 3", "grovectl: group 3: already exists (EEXIST)\n"},
		{"group info nosuch", "grovectl: group \"nosuch\": no such domain or group (ESRCH)\n"},
		{"pause nosuch", "grovectl: domain \"nosuch\": no such domain or group (ESRCH)\n"},
		{"destroy 0", "grovectl: domain 0: operation not permitted (EPERM)\n"},
		{"group stats 9", "grovectl: group 9: stats: no such domain or group (ESRCH)\n"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			if _, errOut, code := h.run(strings.Fields(tc.args)...); code != exitOp || errOut != tc.want {
				t.Fatalf("exit %d, stderr %q, want %q", code, errOut, tc.want)
			}
		})
	}
}

// A dead socket: the path once, the system's reason once.
func TestDialErrorPrintsOnce(t *testing.T) {
	sock := t.TempDir() + "/none.sock"
	for _, args := range [][]string{{"list"}, {"pause", "1"}, {"group", "pause", "web"}, {"events"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(t.Context(), append([]string{"--socket", sock}, args...), env{stdout: &out, stderr: &errOut,
				getenv: func(string) string { return "" }, dial: proto.Dial})
			msg := errOut.String()
			if code != exitOp || strings.Count(msg, sock) != 1 || strings.Count(msg, "\n") != 1 ||
				!strings.HasSuffix(msg, sock+": cannot connect (is Grove running?): no such file or directory\n") {
				t.Fatalf("exit %d, stderr %q", code, msg)
			}
		})
	}
}
