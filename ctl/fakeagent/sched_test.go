package fakeagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"grove/ctl/proto"
	"grove/errno"
	"grove/hv/abi"
)

// schedAgent has group 3 with d1, d2 (both opted in) and d3 (opted out),
// and d4 opted in but ungrouped, on 2 CPUs.
func schedAgent(t *testing.T) (*Agent, *proto.Client) {
	a := New()
	for id := 1; id <= 4; id++ {
		a.AddDomain(id, fmt.Sprintf("d%d", id), 64)
	}
	c := client(t, a)
	for _, s := range []struct {
		op   string
		args any
	}{
		{proto.OpGroupCreate, proto.GroupArgs{Group: 3}},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 3, Domain: 1}},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 3, Domain: 2}},
		{proto.OpGroupJoin, proto.JoinArgs{Group: 3, Domain: 3}},
		{proto.OpGroupGang, proto.GangArgs{Domain: 1, Gang: true}},
		{proto.OpGroupGang, proto.GangArgs{Domain: 2, Gang: true}},
		{proto.OpGroupGang, proto.GangArgs{Domain: 4, Gang: true}},
	} {
		if err := c.Call(context.Background(), s.op, s.args, nil); err != nil {
			t.Fatalf("%s %+v: %v", s.op, s.args, err)
		}
	}
	return a, c
}

func TestSetPolicy(t *testing.T) {
	tests := []struct {
		args proto.PolicyArgs
		want error
	}{
		{proto.PolicyArgs{Group: 0, Policy: "gang"}, errno.EPERM},
		{proto.PolicyArgs{Group: 0, Policy: "none"}, errno.EPERM},
		{proto.PolicyArgs{Group: 9, Policy: "gang"}, errno.ESRCH},
		{proto.PolicyArgs{Group: 3, Policy: "lockstep"}, errno.EINVAL},
		{proto.PolicyArgs{Group: 3, Policy: ""}, errno.EINVAL},
		{proto.PolicyArgs{Group: 3, Policy: "gang", SkewNS: 30e6}, errno.EINVAL},
		{proto.PolicyArgs{Group: 3, Policy: "none", SkewNS: 1}, errno.EINVAL},
		{proto.PolicyArgs{Group: 3, Policy: "relaxed"}, errno.EINVAL},
		{proto.PolicyArgs{Group: 3, Policy: "relaxed", SkewNS: 999_999}, errno.EINVAL},
		{proto.PolicyArgs{Group: 3, Policy: "relaxed", SkewNS: 10e9 + 1}, errno.EINVAL},
		{proto.PolicyArgs{Group: 3, Policy: "relaxed", SkewNS: -1}, errno.EINVAL},
		{proto.PolicyArgs{Group: 3, Policy: "relaxed", SkewNS: 1e6}, nil},
		{proto.PolicyArgs{Group: 3, Policy: "relaxed", SkewNS: 10e9}, nil},
		{proto.PolicyArgs{Group: 3, Policy: "gang"}, nil},
		{proto.PolicyArgs{Group: 3, Policy: "none"}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s/%d", tt.args.Group, tt.args.Policy, tt.args.SkewNS), func(t *testing.T) {
			a, c := schedAgent(t)
			err := c.Call(context.Background(), proto.OpGroupPolicy, tt.args, nil)
			if !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			info, _ := a.Group(3)
			want := proto.GroupInfo{Policy: "none"}
			if tt.want == nil {
				want = proto.GroupInfo{Policy: tt.args.Policy, SkewNS: tt.args.SkewNS}
			}
			if info.Policy != want.Policy || info.SkewNS != want.SkewNS {
				t.Fatalf("group 3 now %q/%d, want %q/%d", info.Policy, info.SkewNS, want.Policy, want.SkewNS)
			}
		})
	}
}

// A gang whose opted-in vCPUs outnumber the CPUs is refused however it
// would arise: set on a big group, a join, an opt-in, fewer CPUs.
func TestGangTooBig(t *testing.T) {
	gang := proto.PolicyArgs{Group: 3, Policy: "gang"}
	tests := []struct {
		name  string
		setup func(a *Agent)
		op    string
		args  any
		want  error
	}{
		{"fits", nil, proto.OpGroupPolicy, gang, nil},
		{"one CPU", func(a *Agent) { a.SetCPUs(1) }, proto.OpGroupPolicy, gang, errno.E2BIG},
		{"two vCPUs", func(a *Agent) { a.SetVCPUs(2, 2) }, proto.OpGroupPolicy, gang, errno.E2BIG},
		{"relaxed any size", func(a *Agent) { a.SetCPUs(1) }, proto.OpGroupPolicy,
			proto.PolicyArgs{Group: 3, Policy: "relaxed", SkewNS: 30e6}, nil},
		{"join opted in", gangOn, proto.OpGroupJoin, proto.JoinArgs{Group: 3, Domain: 4}, errno.E2BIG},
		{"join opted out", gangOn, proto.OpGroupJoin, proto.JoinArgs{Group: 3, Domain: 0}, nil},
		{"opt in", gangOn, proto.OpGroupGang, proto.GangArgs{Domain: 3, Gang: true}, errno.E2BIG},
		{"opt out", gangOn, proto.OpGroupGang, proto.GangArgs{Domain: 1, Gang: false}, nil},
		{"opt in with room", func(a *Agent) { a.SetCPUs(3); gangOn(a) }, proto.OpGroupGang, proto.GangArgs{Domain: 3, Gang: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, c := schedAgent(t)
			if tt.setup != nil {
				tt.setup(a)
			}
			err := c.Call(context.Background(), tt.op, tt.args, nil)
			if !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
				t.Fatalf("%s %+v: %v, want %v", tt.op, tt.args, err, tt.want)
			}
		})
	}
}

func gangOn(a *Agent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.setPolicy(args{Group: ptr(3), Policy: ptr("gang"), SkewNS: ptr[int64](0)}); err != nil {
		panic(err)
	}
}

func ptr[T any](v T) *T { return &v }

// group.info shows the policy, its bound and the opted-in members, under
// the JSON names grovectl prints.
func TestInfoSched(t *testing.T) {
	_, c := schedAgent(t)
	ctx := context.Background()
	if err := c.Call(ctx, proto.OpGroupPolicy, proto.PolicyArgs{Group: 3, Policy: "relaxed", SkewNS: 5e6}, nil); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	var msg json.RawMessage
	if err := c.Call(ctx, proto.OpGroupInfo, proto.GroupArgs{Group: 3}, &msg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(msg, &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"policy": "relaxed", "skew_ns": 5e6, "gang": []any{1.0, 2.0}, "members": []any{1.0, 2.0, 3.0}}
	for k, v := range want {
		if !reflect.DeepEqual(raw[k], v) {
			t.Errorf("%s = %v, want %v (all: %s)", k, raw[k], v, msg)
		}
	}
}

func TestStats(t *testing.T) {
	a, c := schedAgent(t)
	ctx := context.Background()
	set := proto.GroupStats{GangTurns: 40, SkewSamples: 38, SkewP50NS: 20e3, SkewP99NS: 300e3, SkewMaxNS: 410e3,
		CoStops: 2, CoStopNS: 7e6, LostSlices: 3,
		VCPUs: []proto.VCPUStats{{Domain: 1, AloneNS: 1e6, TogetherNS: 9e6}, {Domain: 2, AloneNS: 2e6, TogetherNS: 9e6}}}
	a.SetStats(3, set)
	if err := c.Call(ctx, proto.OpGroupPolicy, proto.PolicyArgs{Group: 3, Policy: "gang"}, nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args proto.StatsArgs
		want proto.GroupStats
		err  error
	}{
		{proto.StatsArgs{Group: 9}, proto.GroupStats{}, errno.ESRCH},
		{proto.StatsArgs{Group: 0}, proto.GroupStats{Group: 0, Policy: "none", VCPUs: []proto.VCPUStats{}}, nil},
		{proto.StatsArgs{Group: 3}, withGroup(set, 3, "gang"), nil},
		{proto.StatsArgs{Group: 3, Reset: true}, withGroup(set, 3, "gang"), nil},
		{proto.StatsArgs{Group: 3}, proto.GroupStats{Group: 3, Policy: "gang",
			VCPUs: []proto.VCPUStats{{Domain: 1}, {Domain: 2}}}, nil},
	}
	for i, s := range steps {
		var got proto.GroupStats
		err := c.Call(ctx, proto.OpGroupStats, s.args, &got)
		if !errors.Is(err, s.err) && !(err == nil && s.err == nil) {
			t.Fatalf("step %d %+v: %v, want %v", i, s.args, err, s.err)
		}
		if err == nil && !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d %+v:\n got %+v\nwant %+v", i, s.args, got, s.want)
		}
	}
}

func withGroup(s proto.GroupStats, gid int, policy string) proto.GroupStats {
	s.Group, s.Policy = gid, policy
	return s
}

// proto's policy names and skew bounds are the ABI's, which the real
// agent passes through unchanged.
func TestPolicyABI(t *testing.T) {
	for name, want := range map[string]int{"none": abi.PolicyNone, "gang": abi.PolicyGang, "relaxed": abi.PolicyRelaxed} {
		if n, ok := proto.PolicyNumber(name); !ok || n != want || proto.PolicyName(want) != name {
			t.Errorf("%s: number %d %v, want %d", name, n, ok, want)
		}
	}
	if proto.MinSkew != abi.MinSkewNS || proto.MaxSkew != abi.MaxSkewNS || proto.DefaultSkew != abi.DefaultSkewNS {
		t.Errorf("skew bounds %v..%v default %v differ from hv/abi", proto.MinSkew, proto.MaxSkew, proto.DefaultSkew)
	}
}
