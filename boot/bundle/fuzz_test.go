package bundle

import (
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and a
// bundle it accepts must keep its promises (an image for every domain).
func FuzzParse(f *testing.F) {
	good := mustWrite(f, goodConfig, goodFiles())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(mustWrite(f, linuxConfig, linuxFiles()))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			return
		}
		for _, d := range b.Config.Domains {
			img, err := b.Image(d.Name)
			kernel, kerr := b.Kernel(d.Name)
			if (err != nil || img == nil) && (kerr != nil || kernel == nil) {
				t.Fatalf("accepted domain %q without an image or kernel: %v, %v", d.Name, err, kerr)
			}
		}
	})
}

// FuzzParseConfig fuzzes the TOML side alone, where mutations of text
// reach much further than through the cpio framing.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte(domainTOML(map[string]string{"memroy_mb": "1", "vcpus": "0"})))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		if len(cfg.Domains) == 0 || cfg.TimesliceMS < MinTimesliceMS {
			t.Fatalf("accepted %+v", cfg)
		}
	})
}
