package proto

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
)

func TestMaxOrderIsTheABIs(t *testing.T) {
	if MaxOrder != abi.GroupOrderMax {
		t.Fatalf("MaxOrder %d, hv/abi GroupOrderMax %d", MaxOrder, abi.GroupOrderMax)
	}
}

func TestPauseArgsCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		args string
		ok   bool
	}{
		{"no-order", `{"group":3}`, true},
		{"order", `{"group":3,"order":[1,4,2]}`, true},
		{"max-id", `{"group":3,"order":[65535]}`, true},
		{"negative-id", `{"group":3,"order":[-1]}`, false},
		{"big-id", `{"group":3,"order":[65536]}`, false},
		{"negative-group", `{"group":-1}`, false},
		{"too-long", `{"group":3,"order":[` + longOrder(MaxOrder+1) + `]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p PauseArgs
			req := Request{Args: json.RawMessage(tc.args)}
			if err := req.DecodeArgs(&p); err != nil {
				t.Fatal(err)
			}
			err := p.Check()
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, errno.EINVAL) {
				t.Fatalf("Check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func longOrder(n int) string {
	b := []byte("1")
	for range n - 1 {
		b = append(b, ",1"...)
	}
	return string(b)
}

// FuzzPauseArgs: whatever args arrive, an accepted PauseArgs has only ids
// the hypervisor's u16s hold, unchanged.
func FuzzPauseArgs(f *testing.F) {
	f.Add([]byte(`{"group":3,"order":[1,4]}`))
	f.Add([]byte(`{"group":3,"order":[70000]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p PauseArgs
		req := Request{Args: b}
		if req.DecodeArgs(&p) != nil || p.Check() != nil {
			return
		}
		ids := p.OrderIDs()
		if len(ids) != len(p.Order) || len(ids) > MaxOrder {
			t.Fatalf("%d ids from %v", len(ids), p.Order)
		}
		back := make([]int, len(ids))
		for i, id := range ids {
			back[i] = int(id)
		}
		if !slices.Equal(back, p.Order) {
			t.Fatalf("ids %v from order %v", ids, p.Order)
		}
	})
}

// ValidGroupName agrees with the hypervisor's rule on every short name
// over a small alphabet and on the edges.
func TestValidGroupNameIsDomgrps(t *testing.T) {
	names := []string{"", "null", "nul", "nulll", strings.Repeat("a", 32), strings.Repeat("a", 33), "a.b", "A", "-", "_x", "é"}
	for _, a := range "az09-_A. " {
		for _, b := range "az09-_A. " {
			names = append(names, string(a), string(a)+string(b))
		}
	}
	for _, s := range names {
		if got, want := ValidGroupName(s), domgrp.ValidName(s) && s != domgrp.NullName; got != want {
			t.Errorf("ValidGroupName(%q) = %v, domgrp says %v", s, got, want)
		}
	}
}
