package strictoml

import (
	"strings"
	"testing"
)

type item struct {
	Name string `toml:"name"`
	Size int    `toml:"size"`
}

type schema struct {
	Title string `toml:"title"`
	Item  []item `toml:"item"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string // error lines, in order; none = success
	}{
		{"ok", "title = \"t\"\n[[item]]\nname = \"a\"\nsize = 1\n", nil},
		{"unknown-top", "colour = 1\n", []string{"f.toml: unknown key colour"}},
		{"unknown-in-second-item", "[[item]]\nname = \"a\"\n[[item]]\nnmae = \"b\"\n",
			[]string{"f.toml: unknown key item[1].nmae"}},
		{"unknown-in-both-items", "[[item]]\nx = 1\n[[item]]\nx = 2\n",
			[]string{"f.toml: unknown key item[0].x", "f.toml: unknown key item[1].x"}},
		{"unknown-table-once", "[[item]]\n[item.extra]\na = 1\nb = 2\n", []string{"f.toml: unknown key item[0].extra"}},
		{"unknown-plain-table-once", "[extra]\na = 1\nb = 2\n", []string{"f.toml: unknown key extra"}},
		{"syntax-with-key", "title = \n", []string{"f.toml:1: title: "}},
		{"syntax-no-key", "[[item]\n", []string{"f.toml:2: expected end of table array name"}},
		{"type-mismatch", "[[item]]\nsize = \"big\"\n", []string{"f.toml:2: item.size: incompatible types"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s schema
			err := Decode("f.toml", []byte(tc.data), &s)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode succeeded, want %q", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("error %q, want %d lines %q", err, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"title = \"t\"\n", "[[item]]\nx = 1\n", "[a.b]\nc = [1, {d = 2}]\n", "item = 3\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var s schema
		if err := Decode("f.toml", []byte(data), &s); err != nil && !strings.HasPrefix(err.Error(), "f.toml") {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}
