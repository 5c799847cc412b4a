package kernel

import "testing"

// The command-line words the kernel reads itself; the reports of bad
// values write to the machine's console, so TestCPUsLimit in qemu/ covers
// those.
func TestCmdlineValue(t *testing.T) {
	for _, tc := range []struct {
		cmd, key, want string
		ok             bool
	}{
		{"cpus=2", "cpus", "2", true},
		{"  selftest   cpus=12 x", "cpus", "12", true},
		{"cpus= x", "cpus", "", true},
		{"cpusx=2 cpus=3", "cpus", "3", true},
		{"xcpus=2", "cpus", "", false},
		{"cpus", "cpus", "", false},
		{"", "cpus", "", false},
		{"cpus=1 cpus=2", "cpus", "1", true}, // the first word wins
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			got, ok := cmdlineValue([]byte(tc.cmd), tc.key)
			if string(got) != tc.want || ok != tc.ok {
				t.Errorf("cmdlineValue(%q, %q) = %q, %v; want %q, %v", tc.cmd, tc.key, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseDec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"4", 4, true}, {"999999", 999999, true}, {"9999999", 0, false},
		{"", 0, false}, {"-1", 0, false}, {"1x", 0, false}, {" 1", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got, ok := parseDec([]byte(tc.in)); got != tc.want || ok != tc.ok {
				t.Errorf("parseDec(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCPUsLimitValid(t *testing.T) {
	for cmd, want := range map[string]int{"": 0, "selftest": 0, "cpus=1": 1, "x cpus=8": 8} {
		if got := cpusLimit([]byte(cmd)); got != want {
			t.Errorf("cpusLimit(%q) = %d, want %d", cmd, got, want)
		}
	}
}

func FuzzCmdlineValue(f *testing.F) {
	f.Add("cpus=2 selftest", "cpus")
	f.Fuzz(func(t *testing.T, cmd, key string) {
		if key == "" {
			return
		}
		v, ok := cmdlineValue([]byte(cmd), key)
		if ok && len(v) > len(cmd) {
			t.Fatalf("value %q longer than the line %q", v, cmd)
		}
		parseDec(v)
	})
}
