package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const webGroup = `
[[group]]
name = "web"
members = ["web1", "web2", "web1-dm"]
`

func TestExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "examples", "groups.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.File != "groups.toml" || len(c.Groups) != 2 || len(c.Orders) != 1 || len(c.Reactions) != 3 {
		t.Fatalf("got %+v", c)
	}
	web, _ := c.Group("web")
	if web.ID != 3 || !web.InGang("web1") || web.InGang("web1-dm") || web.Policy != "gang" || web.Skew != 0 {
		t.Fatalf("web: %+v", web)
	}
	if got := c.PauseOrder("web"); !reflect.DeepEqual(got, []string{"web1", "web1-dm", "web2"}) {
		t.Fatalf("PauseOrder(web) = %v", got)
	}
	if got := c.ReactionsTo(OnCrashed, "db"); len(got) != 1 || got[0].Do != DoDestroyDomain {
		t.Fatalf("ReactionsTo(crashed, db) = %v", got)
	}
}

func TestPolicy(t *testing.T) {
	tests := []struct {
		keys   string
		policy string
		skew   time.Duration
	}{
		{"", "none", 0},
		{"policy = \"none\"\n", "none", 0},
		{"policy = \"gang\"\ngang = [\"web1\", \"web2\"]\n", "gang", 0},
		{"policy = \"relaxed\"\n", "relaxed", 30 * time.Millisecond},
		{"policy = \"relaxed\"\nskew = \"1ms\"\n", "relaxed", time.Millisecond},
		{"policy = \"relaxed\"\nskew = \"10s\"\n", "relaxed", 10 * time.Second},
		{"policy = \"relaxed\"\nskew = \"2.5ms\"\n", "relaxed", 2500 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.keys, "\n", ";"), func(t *testing.T) {
			c, err := Parse("groups.toml", []byte(webGroup+tt.keys))
			if err != nil {
				t.Fatal(err)
			}
			if g := c.Groups[0]; g.Policy != tt.policy || g.Skew != tt.skew {
				t.Fatalf("policy %q skew %v, want %q %v", g.Policy, g.Skew, tt.policy, tt.skew)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.toml")); !os.IsNotExist(err) {
		t.Fatalf("error %v", err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[[group]", "groups.toml:1: expected end of table array name"},
		{webGroup + "id = \"three\"\n", `groups.toml:5: group.id: incompatible types`},
		{"colour = 1\n", "groups.toml: unknown key colour"},
		{webGroup + "[group.extra]\nx = 1\n", "groups.toml: unknown key group[0].extra"},
		{"[[group]]\nmembers = [\"a\"]\n", "group[0]: name: missing"},
		{"[[group]]\nname = \"\"\nmembers = [\"a\"]\n", "group[0]: name: empty"},
		{"[[group]]\nname = \"Web!\"\nmembers = [\"a\"]\n", `group[0]: name: "Web!" is not a valid name`},
		{"[[group]]\nname = \"web\"\n", `group[0]: members: group "web" has no members`},
		{webGroup + "id = 0\n", "group[0]: id: 0 is the null group"},
		{webGroup + "id = 256\n", "group[0]: id: 256 is out of range 1..255"},
		{webGroup + "id = -1\n", "group[0]: id: -1 is out of range"},
		{webGroup + webGroup, `group[1]: name: duplicate group "web"`},
		{"[[group]]\nname = \"null\"\nmembers = [\"a\"]\n", `group[0]: name: "null" is the null group's name`},
		{webGroup + "id = 3\n[[group]]\nname = \"db\"\nid = 3\nmembers = [\"db1\"]\n", `group[1]: id: 3 is also the id of group "web"`},
		{webGroup + "[[group]]\nname = \"db\"\nmembers = [\"web2\"]\n", `group[1]: members[0]: "web2" is already a member of group "web"`},
		{"[[group]]\nname = \"db\"\nmembers = [\"a\", \"a\"]\n", `group[0]: members[1]: "a" listed twice`},
		{webGroup + "gang = [\"db1\"]\n", `group[0]: gang[0]: "db1" is not a member of group "web"`},
		{webGroup + "gang = [\"web1\", \"web1\"]\n", `group[0]: gang[1]: "web1" listed twice`},
		{webGroup + "policy = \"lockstep\"\n", `group[0]: policy: "lockstep" is not one of none, gang, relaxed (group "web")`},
		{webGroup + "policy = \"\"\n", `group[0]: policy: "" is not one of none, gang, relaxed (group "web")`},
		{webGroup + "policy = 1\n", `groups.toml:5: group.policy: incompatible types`},
		{webGroup + "policy = \"gang\"\nskew = \"30ms\"\n", `group[0]: skew: only for policy "relaxed" (group "web" has policy "gang")`},
		{webGroup + "skew = \"30ms\"\n", `group[0]: skew: only for policy "relaxed" (group "web" has policy "none")`},
		{webGroup + "policy = \"relaxed\"\nskew = \"0s\"\n", `group[0]: skew: 0s is out of range 1ms..10s (group "web")`},
		{webGroup + "policy = \"relaxed\"\nskew = \"1h\"\n", `group[0]: skew: 1h0m0s is out of range 1ms..10s (group "web")`},
		{webGroup + "policy = \"relaxed\"\nskew = \"-5ms\"\n", `group[0]: skew: -5ms is out of range`},
		{webGroup + "policy = \"relaxed\"\nskew = \"soon\"\n", `group[0]: skew: "soon" is not a duration like "30ms" (group "web")`},
		{webGroup + "policy = \"relaxed\"\nskew = 30\n", `groups.toml:6: group.skew: incompatible types`},
		{webGroup + "[[order]]\ngroup = \"web\"\nfirst = \"web1\"\n", "order[0]: then: missing"},
		{webGroup + "[[order]]\ngroup = \"db\"\nfirst = \"a\"\nthen = \"b\"\n", `order[0]: group: no group "db"`},
		{webGroup + "[[order]]\ngroup = \"web\"\nfirst = \"web1\"\nthen = \"web1-dm\"\n[[order]]\ngroup = \"web\"\nfirst = \"web2\"\nthen = \"web9\"\n",
			`groups.toml: order[1]: then: "web9" is not a member of group "web"`},
		{webGroup + "[[reaction]]\non = \"exploded\"\ngroup = \"web\"\ndo = \"nothing\"\n", `reaction[0]: on: "exploded" is not one of`},
		{webGroup + "[[reaction]]\non = \"crashed\"\ngroup = \"web\"\ndo = \"reboot\"\n", `reaction[0]: do: "reboot" is not one of`},
		{webGroup + "[[reaction]]\non = \"crashed\"\ngroup = \"db\"\ndo = \"nothing\"\n", `reaction[0]: group: no group "db"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Parse("groups.toml", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// All problems are reported at once, one per line.
func TestErrorsJoined(t *testing.T) {
	in := "[[group]]\nname = \"web\"\nid = 0\nmembers = [\"A\"]\n"
	_, err := Parse("g.toml", []byte(in))
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Fatalf("error %v, want two lines", err)
	}
}

func rules(pairs ...string) string {
	var b strings.Builder
	b.WriteString("[[group]]\nname = \"web\"\nmembers = [\"a\", \"b\", \"c\", \"d\", \"e\"]\n")
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString("[[order]]\ngroup = \"web\"\nfirst = \"" + pairs[i] + "\"\nthen = \"" + pairs[i+1] + "\"\n")
	}
	return b.String()
}

func TestCycles(t *testing.T) {
	tests := []struct {
		pairs []string
		cycle string
	}{
		{[]string{"a", "a"}, "a -> a"},
		{[]string{"b", "a", "a", "b"}, "a -> b -> a"},
		{[]string{"c", "a", "b", "c", "a", "b"}, "a -> b -> c -> a"},
		{[]string{"e", "d", "a", "b", "d", "e"}, "d -> e -> d"},
		{[]string{"a", "b", "b", "c", "c", "d", "d", "b"}, "b -> c -> d -> b"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.pairs, ","), func(t *testing.T) {
			_, err := Parse("groups.toml", []byte(rules(tt.pairs...)))
			want := `groups.toml: ordering rules for group "web" form a cycle: ` + tt.cycle
			if err == nil || err.Error() != want {
				t.Fatalf("error %v, want %q", err, want)
			}
		})
	}
}

func TestPauseOrder(t *testing.T) {
	tests := []struct {
		pairs []string
		want  string
	}{
		{nil, "a b c d e"},
		{[]string{"a", "b"}, "a b c d e"},
		{[]string{"b", "a"}, "b a c d e"},
		{[]string{"e", "c"}, "e c a b d"},
		{[]string{"d", "b", "c", "b"}, "c d b a e"},
		{[]string{"e", "d", "d", "c", "c", "b"}, "e d c b a"},
		{[]string{"a", "c", "b", "c", "a", "c"}, "a b c d e"},
		{[]string{"c", "a", "e", "b"}, "c a e b d"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.pairs, ","), func(t *testing.T) {
			c, err := Parse("groups.toml", []byte(rules(tt.pairs...)))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.PauseOrder("web"), " "); got != tt.want {
				t.Fatalf("PauseOrder = %q, want %q", got, tt.want)
			}
			rules := strings.Join(c.RuleOrder("web"), " ")
			if !strings.HasPrefix(tt.want, rules) || len(tt.pairs) > 0 && rules == "" {
				t.Fatalf("RuleOrder = %q, not the start of %q", rules, tt.want)
			}
			rev := c.UnpauseOrder("web")
			if got := strings.Join(rev, " "); got != reverse(tt.want) {
				t.Fatalf("UnpauseOrder = %q", got)
			}
		})
	}
}

func reverse(s string) string {
	f := strings.Fields(s)
	for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
		f[i], f[j] = f[j], f[i]
	}
	return strings.Join(f, " ")
}

func TestPauseOrderUnknownGroup(t *testing.T) {
	c, _ := Parse("g.toml", []byte(webGroup))
	if got := c.PauseOrder("db"); got != nil {
		t.Fatalf("got %v", got)
	}
	if c.HasOrder("web") {
		t.Fatal("HasOrder without rules")
	}
}
