package selftest

import "testing"

func TestSelected(t *testing.T) {
	for _, tc := range []struct {
		name, filter string
		want         bool
	}{
		{"hv/fastexit-matches-go", "", true},
		{"hv/fastexit-matches-go", "hv/", true},
		{"hv/fastexit-matches-go", "kernel/", false},
		{"hv/fastexit-matches-go", "-hv/fastexit", false},
		{"hv/gang-scheduling", "-hv/fastexit", true},
		{"kernel/timers", "-", false}, // a lone '-' is a name part, as before
	} {
		if got := Selected(tc.name, tc.filter); got != tc.want {
			t.Errorf("Selected(%q, %q) = %v, want %v", tc.name, tc.filter, got, tc.want)
		}
	}
}
