package qemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	grovectlOnce sync.Once
	grovectlPath string
	grovectlErr  error
)

// grovectl builds the host tool once per test binary.
func grovectl(t testing.TB) string {
	t.Helper()
	grovectlOnce.Do(func() {
		dir, err := os.MkdirTemp("", "grovectl-")
		if err != nil {
			grovectlErr = err
			return
		}
		grovectlPath = filepath.Join(dir, "grovectl")
		out, err := exec.Command("go", "build", "-o", grovectlPath, "grove/cmd/grovectl").CombinedOutput()
		if err != nil {
			grovectlErr = errors.New(string(out))
		}
	})
	if grovectlErr != nil {
		t.Fatalf("building grovectl: %v", grovectlErr)
	}
	return grovectlPath
}

// ctlRun runs grovectl with args and returns its output and exit status.
func ctlRun(t *testing.T, sock string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(grovectl(t), append([]string{"--socket", sock, "--timeout", "20s"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("grovectl %v: %v", args, err)
	return "", -1
}

func ctlOK(t *testing.T, sock string, args ...string) string {
	t.Helper()
	out, code := ctlRun(t, sock, args...)
	if code != 0 {
		t.Fatalf("grovectl %v: exit %d:\n%s", args, code, out)
	}
	return out
}

const groupsTOML = `
[[group]]
name = "web"
id = 3
members = ["web1", "web2", "webdm"]

[[order]]
group = "web"
first = "web1"
then = "webdm"

[[group]]
name = "db"
members = ["db1", "db2"]

[[reaction]]
on = "crashed"
group = "db"
do = "pause-group"
`

// grovectl against a real Grove: apply a config, ordered group pause and
// unpause, errors with their exit status, and a reaction run by the agent.
func TestGrovectl(t *testing.T) {
	im := Build(t)
	grovectl(t) // built before QEMU starts: db1's crash timer runs from boot
	hb := im.Heartbeat
	sock := filepath.Join(t.TempDir(), "grove.sock")
	cfg := filepath.Join(t.TempDir(), "groups.toml")
	if err := os.WriteFile(cfg, []byte(groupsTOML), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Start(t, "grovectl", Boot{Kernel: im.Grove, Control: sock, Timeout: 5 * time.Minute, Initrd: im.Agent +
		" name=dom0 privileged," + hb + " name=web1," + hb + " name=web2," + hb + " name=webdm," +
		hb + " name=db1 crashafter=250," + hb + " name=db2"})
	r.ExpectAll(60*time.Second, "(d0) agent: control domain up", "grove: created d5 (db2)")

	out := ctlOK(t, sock, "apply", cfg)
	if !strings.Contains(out, "reactions: 1 handed to the control agent") {
		t.Fatalf("apply:\n%s", out)
	}
	out = ctlOK(t, sock, "--config", cfg, "group", "pause", "web")
	settle()
	all := r.All()
	p1, p3 := strings.LastIndex(all, "(d1) paused"), strings.LastIndex(all, "(d3) paused")
	if p1 < 0 || p3 < 0 || p1 > p3 {
		t.Fatalf("ordering rule: web1 (d1) must be paused before webdm (d3):\n%s\n%s", out, r.Serial())
	}
	mark := r.Mark()
	time.Sleep(1200 * time.Millisecond)
	during := r.Since(mark)
	if strings.Contains(during, "(d1) beat") || strings.Contains(during, "(d2) beat") ||
		strings.Contains(during, "(d3) beat") || !strings.Contains(during, "(d5) beat") {
		t.Fatalf("during the web pause:\n%s", during)
	}
	ctlOK(t, sock, "--config", cfg, "group", "unpause", "web")
	settle()
	all = r.All()
	u1, u3 := strings.LastIndex(all, "(d1) unpaused"), strings.LastIndex(all, "(d3) unpaused")
	if u1 < 0 || u3 < 0 || u3 > u1 {
		t.Fatalf("unpause must run in reverse (webdm before web1):\n%s", r.Serial())
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"group", "info", "99"}, "group 99: no such domain or group (ESRCH)"},
		{[]string{"group", "pause", "0"}, "(EPERM)"},
		{[]string{"group", "destroy", "3"}, "(EBUSY)"},
		{[]string{"group", "create", "3"}, "(EEXIST)"},
		{[]string{"pause", "nosuchdomain"}, "nosuchdomain"},
	} {
		out, code := ctlRun(t, sock, tc.args...)
		if code != 1 || !strings.Contains(out, tc.want) || !strings.HasPrefix(out, "grovectl: ") {
			t.Errorf("grovectl %v: exit %d, output %q; want exit 1 and %q", tc.args, code, out, tc.want)
		}
	}
	if _, code := ctlRun(t, sock, "group", "bogus"); code != 2 {
		t.Errorf("usage error: exit %d, want 2", code)
	}

	// Joining a second group moves the domain: it is in exactly one group.
	ctlOK(t, sock, "group", "join", "3", "db2")
	var list []struct {
		Name  string `json:"name"`
		Group int    `json:"group"`
	}
	if err := json.Unmarshal([]byte(ctlOK(t, sock, "list", "--json")), &list); err != nil {
		t.Fatalf("list --json: %v", err)
	}
	if len(list) != 6 {
		t.Fatalf("list --json gave %d domains, want 6", len(list))
	}
	for _, d := range list {
		if d.Name == "db2" && d.Group != 3 {
			t.Fatalf("db2 in group %d after joining 3", d.Group)
		}
	}
	ctlOK(t, sock, "--config", cfg, "group", "join", "db", "db2")

	// The reaction: db1 crashes, the agent pauses group db (so db2) on its own.
	r.Expect("(d4) crashed: guest requested crash", 90*time.Second) // 25 s after it started
	r.Expect("(d0) agent: reaction: d4 crashed", 10*time.Second)
	r.Expect("(d5) paused", 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}
