package qemu

import (
	"strings"
	"testing"
	"time"
)

// Group control from the Go control agent (domctl group): a group pause
// stops every member's heartbeat while a non-member goes on, the caller
// (dom0, itself a member) is skipped, and each error comes back as its errno.
func TestGroupsFromControlDomain(t *testing.T) {
	im := Build(t)
	hb := im.Heartbeat
	r := Start(t, "groups", Boot{Kernel: im.Grove, Initrd: im.Agent + " name=dom0 privileged groups," +
		hb + " name=web1," + hb + " name=web2," + hb + " name=other"})
	r.Expect("(d0) agent: created group 1", 30*time.Second)
	r.Expect("(d0) agent: group create again -> already exists (EEXIST)", 10*time.Second)
	r.Expect("(d0) agent: join d0 -> ok", 10*time.Second)
	r.Expect("(d0) agent: group pause acted on 2 members", 10*time.Second) // dom0 skipped
	t0 := time.Now()
	r.Expect("(d0) agent: group 1 flags=2 pauses=1 members=[1 2 0]", 10*time.Second) // FIFO join order
	r.Expect("(d0) agent: group unpause -> ok", 10*time.Second)
	held := time.Since(t0)
	settle()
	all := r.All()
	during := pauseWindow(all, "group pause acted on", "(d0) agent: group unpause -> ok")
	for _, d := range []string{"(d1) beat", "(d2) beat"} {
		if strings.Contains(during, d) || held < time.Second {
			t.Fatalf("%s during the group pause (held %v):\n%s", d, held, during)
		}
	}
	if n := strings.Count(during, "(d3) beat"); n < 5 {
		t.Fatalf("non-member d3 beat %d times during the pause:\n%s", n, during)
	}
	r.ExpectAll(10*time.Second,
		"(d0) agent: group unpause acted on 2 members",
		"(d0) agent: group unpause again -> invalid argument (EINVAL)",
		"(d0) agent: pause null group -> operation not permitted (EPERM)",
		"(d0) agent: pause group 200 -> no such domain or group (ESRCH)",
		"(d0) agent: destroy non-empty -> busy (EBUSY)",
		"(d0) agent: group 1 members=[1 0]", // joining group 2 moved d2
		"(d0) agent: group 2 members=[2]",
		"(d0) agent: groups [0 1 2] ok",
		"(d0) agent: destroy emptied -> ok",
	)
	r.ExpectAll(10*time.Second, beat(1, lastBeat(r.All(), 1)+3), beat(2, lastBeat(r.All(), 2)+3))
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
}
