package peer

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParse: what the init prints reads back, through the noise of a
// kernel console.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		console string
		want    Report
	}{
		{"empty", "", Report{Tests: map[string]*Outcome{}}},
		{"pass", Out("a", "cpuid 69712") + Err("a", "warning: x") + Exit("a", 1, 2500*time.Millisecond) + Done,
			Report{Tests: map[string]*Outcome{"a": {Out: "cpuid 69712\n", Err: "warning: x\n", Ended: true, Code: 1,
				Time: 2500 * time.Millisecond}}, Order: []string{"a"}, Done: true}},
		{"timeout", Out("b", "x") + Timeout("b", time.Minute),
			Report{Tests: map[string]*Outcome{"b": {Out: "x\n", Ended: true, TimedOut: true, Time: time.Minute}},
				Order: []string{"b"}}},
		{"failed", Failed("c", errors.New("exec: no such\nfile")) + Done,
			Report{Tests: map[string]*Outcome{"c": {Ended: true, Failed: "exec: no such file"}}, Order: []string{"c"}, Done: true}},
		{"setup", "[    1.2] random: crng init done\n" + SetupFailed(errors.New("loading kvm-amd: no such device")),
			Report{Tests: map[string]*Outcome{}, Setup: "loading kvm-amd: no such device"}},
		{"kernel-noise-in-front", "[   3.1] kvm: msg" + Out("d", "ipi 9000\r"),
			Report{Tests: map[string]*Outcome{"d": {Out: "ipi 9000\n"}}, Order: []string{"d"}}},
		{"empty-line", Out("e", "") + Exit("e", 3, 0),
			Report{Tests: map[string]*Outcome{"e": {Out: "\n", Ended: true, Code: 3}}, Order: []string{"e"}}},
		{"two-in-order", Out("z", "1") + Out("y", "2") + Out("z", "3"),
			Report{Tests: map[string]*Outcome{"z": {Out: "1\n3\n"}, "y": {Out: "2\n"}}, Order: []string{"z", "y"}}},
		{"cut-short", Prefix + "f exi", Report{Tests: map[string]*Outcome{}}},
		{"retried", Out("g", "x") + Err("g", "y") + Retry("g", "silent\nfirst run") + Out("g", "cpuid 5") + Exit("g", 1, 0),
			Report{Tests: map[string]*Outcome{"g": {Out: "cpuid 5\n", Ended: true, Code: 1, Retry: "silent first run"}},
				Order: []string{"g"}}},
		{"silent-twice", Retry("h", "s") + Silent("h", time.Minute),
			Report{Tests: map[string]*Outcome{"h": {Ended: true, Silent: true, Retry: "s", Time: time.Minute}},
				Order: []string{"h"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Parse(tc.console); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.console, got, tc.want)
			}
		})
	}
}

// FuzzParse: any console parses without panicking, and every test it
// names has an outcome.
func FuzzParse(f *testing.F) {
	f.Add(Out("a", "cpuid 1") + Exit("a", 1, time.Second) + Done)
	f.Add(Prefix + "x timeout 99999999999999999999\n" + Prefix + "x exit -1 5")
	f.Add(SetupFailed(errors.New("e")) + Prefix + "y failed: z")
	f.Add(Retry("a", "b") + Silent("a", time.Second) + Prefix + "a retry: failed: x")
	f.Fuzz(func(t *testing.T, console string) {
		r := Parse(console)
		if len(r.Order) != len(r.Tests) {
			t.Fatalf("order %v, tests %v", r.Order, r.Tests)
		}
		for _, name := range r.Order {
			if r.Tests[name] == nil || strings.ContainsAny(name, " \n") {
				t.Fatalf("test %q", name)
			}
		}
	})
}
