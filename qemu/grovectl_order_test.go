package qemu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The rule puts webdm before web1, so the pause order (webdm, web1, then
// web2 unnamed) is not the join order (web1, web2, webdm).
const orderTOML = `
[[group]]
name = "web"
members = ["web1", "web2", "webdm"]
gang = ["web1", "web2"]

[[order]]
group = "web"
first = "webdm"
then = "web1"
`

// groupInfoJSON is the part of group info --json this test reads.
type groupInfoJSON struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	Paused     bool   `json:"paused"`
	PauseCount int    `json:"pause_count"`
	MemberInfo []struct {
		ID    int      `json:"id"`
		Name  string   `json:"name"`
		State string   `json:"state"`
		Flags []string `json:"flags"`
	} `json:"member_info"`
}

// An ordered group pause is one pause in the hypervisor: the console shows
// the members paused in the rule's order, group list says PAUSED yes and
// group info a pause count of 1; found by name without the config, the
// group unpauses in the reverse of that order. Groups have names: create
// --name, info by name with each member's name and flags, and errors that
// name the group once.
func TestGrovectlOrderedPauseAndNames(t *testing.T) {
	im := Build(t)
	grovectl(t)
	hb := im.Heartbeat
	sock := filepath.Join(t.TempDir(), "grove.sock")
	cfg := filepath.Join(t.TempDir(), "order.toml")
	if err := os.WriteFile(cfg, []byte(orderTOML), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Start(t, "grovectl-order", Boot{Kernel: im.Grove, Control: sock, Timeout: 5 * time.Minute,
		Initrd: im.Agent + " name=dom0 privileged," + hb + " name=web1," + hb + " name=web2," + hb + " name=webdm," +
			hb + " name=db1"})
	r.ExpectAll(90*time.Second, "(d0) agent: control domain up", "grove: created d4 (db1)")
	ctlOK(t, sock, "apply", cfg)

	mark := r.Mark()
	out := ctlOK(t, sock, "--config", cfg, "group", "pause", "web")
	if !strings.Contains(out, "group web (1): paused (3 members) in order webdm(3) web1(1) web2(2)") {
		t.Fatalf("ordered pause:\n%s", out)
	}
	r.ExpectAll(30*time.Second, "(d3) paused", "(d1) paused", "(d2) paused")
	inOrder(t, r, r.Since(mark), "(d3) paused", "(d1) paused", "(d2) paused")

	list := ctlOK(t, sock, "group", "list")
	if !lineHas(list, "web", "yes (count 1)") || !lineHas(list, "null", "no") {
		t.Fatalf("group list after an ordered pause:\n%s", list)
	}
	var info groupInfoJSON
	ctlJSON(t, sock, &info, "group", "info", "web")
	if info.ID != 1 || info.Name != "web" || !info.Paused || info.PauseCount != 1 || len(info.MemberInfo) != 3 {
		t.Fatalf("group info web: %+v", info)
	}
	for i, want := range []string{"web1 paused gang", "web2 paused gang", "webdm paused "} {
		m := info.MemberInfo[i]
		if got := m.Name + " " + m.State + " " + strings.Join(m.Flags, ","); got != want {
			t.Errorf("member %d: %q, want %q", i, got, want)
		}
	}
	beats := time.Now()
	time.Sleep(1500 * time.Millisecond)
	during := r.Since(mark)
	if strings.Contains(during[strings.LastIndex(during, "(d2) paused"):], "(d1) beat") ||
		!strings.Contains(during, "(d4) beat") {
		t.Fatalf("during the pause (%v):\n%s", time.Since(beats), during)
	}

	mark = r.Mark()
	out = ctlOK(t, sock, "group", "unpause", "web") // no config: the order the pause recorded
	if !strings.Contains(out, "group web (1): unpaused (3 members)") {
		t.Fatalf("unpause by name:\n%s", out)
	}
	r.ExpectAll(30*time.Second, "(d2) unpaused", "(d1) unpaused", "(d3) unpaused")
	inOrder(t, r, r.Since(mark), "(d2) unpaused", "(d1) unpaused", "(d3) unpaused")
	if list := ctlOK(t, sock, "group", "list"); !lineHas(list, "web", " no ") {
		t.Fatalf("group list after the unpause:\n%s", list)
	}

	if out := ctlOK(t, sock, "group", "create", "--name", "extra"); !strings.Contains(out, "group extra (2): created") {
		t.Fatalf("create --name:\n%s", out)
	}
	for _, tc := range []struct{ args, want string }{
		{"group create --name extra", "grovectl: group extra: already exists (EEXIST)\n"},
		{"group pause 0", "grovectl: group 0: operation not permitted (EPERM)\n"},
		{"group pause null", "grovectl: group null (0): operation not permitted (EPERM)\n"},
		{"group destroy web", "grovectl: group web (1): busy (EBUSY)\n"},
		{"group info nosuch", "grovectl: group \"nosuch\": no such domain or group (ESRCH)\n"},
	} {
		if out, code := ctlRun(t, sock, strings.Fields(tc.args)...); code != 1 || out != tc.want {
			t.Errorf("grovectl %s: exit %d, %q; want exit 1, %q", tc.args, code, out, tc.want)
		}
	}
	ctlOK(t, sock, "group", "destroy", "extra")
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}

// inOrder fails unless each of want appears in text after the one before.
func inOrder(t *testing.T, r *Run, text string, want ...string) {
	t.Helper()
	rest := text
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("%q not in order %q:\n%s", w, want, r.Serial())
		}
		rest = rest[i+len(w):]
	}
}

// lineHas reports whether a line of text holds every one of parts.
func lineHas(text string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}
