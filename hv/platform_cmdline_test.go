package hv

import (
	"strings"
	"testing"
)

// linuxCmdline adds the TSC's rate and reliability unless the line sets
// them itself.
func TestLinuxCmdline(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		reliable, earlyKHz int // how often each appears in the result
	}{
		{"console=ttyS0", 1, 1},
		{"", 1, 1},
		{"console=ttyS0 tsc=unstable", 0, 1},
		{"tsc=reliable quiet", 1, 1},
		{"console=ttyS0 tsc_early_khz=1000", 1, 1},
		{"notsc=1 xtsc=reliable", 1, 1}, // only a whole word counts
	} {
		got := linuxCmdline(tc.in)
		if n := strings.Count(" "+got, " tsc=reliable"); n != tc.reliable {
			t.Errorf("linuxCmdline(%q) = %q: tsc=reliable %d times, want %d", tc.in, got, n, tc.reliable)
		}
		if n := strings.Count(" "+got, " tsc_early_khz="); n != tc.earlyKHz {
			t.Errorf("linuxCmdline(%q) = %q: tsc_early_khz %d times, want %d", tc.in, got, n, tc.earlyKHz)
		}
		if !strings.HasPrefix(got, strings.TrimSpace(tc.in)) {
			t.Errorf("linuxCmdline(%q) = %q: the guest's own words must come first", tc.in, got)
		}
	}
}
