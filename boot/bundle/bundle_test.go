package bundle

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"

	gt "grove/boot/guest/guesttest"
)

func goodFiles() map[string][]byte {
	return map[string][]byte{
		"guests/agent.elf":     gt.Simple(false),
		"guests/heartbeat.elf": gt.Simple(true),
		"README":               []byte("extra files ride along"),
	}
}

func mustWrite(t testing.TB, cfg string, files map[string][]byte) []byte {
	t.Helper()
	b, err := Write([]byte(cfg), files)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	files := goodFiles()
	data := mustWrite(t, goodConfig, files)
	b, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Config.Domains) != 2 || b.Config.Domains[1].Name != "web1" || b.Config.TimesliceMS != 20 {
		t.Errorf("config %+v", b.Config)
	}
	files[ConfigName] = []byte(goodConfig)
	if !maps.EqualFunc(b.Files, files, bytes.Equal) {
		t.Errorf("files differ: got %v", slicesOfKeys(b.Files))
	}
	img, err := b.Image("web1")
	if err != nil || img.Name != "guests/heartbeat.elf" || img.Entry != 0x100000 {
		t.Errorf("Image(web1) = %+v, %v", img, err)
	}
	if _, err := b.Image("nosuch"); err == nil {
		t.Error("Image(nosuch) succeeded")
	}
	if again := mustWrite(t, goodConfig, goodFiles()); !bytes.Equal(again, data) {
		t.Error("Write is not reproducible")
	}
}

func slicesOfKeys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestParseRefuses covers what a correct grove.toml can still get wrong
// against the files it ships with.
func TestParseRefuses(t *testing.T) {
	huge := gt.ELF(gt.Spec{Notes: []gt.Note{gt.PVHNote(0x100000)},
		Segments: []gt.Segment{{Paddr: 0x100000, Data: []byte{0xf4}, Memsz: 70 << 20}}})
	for _, tc := range []struct {
		name string
		edit func(map[string][]byte)
		want string
	}{
		{"image-missing", func(f map[string][]byte) { delete(f, "guests/heartbeat.elf") },
			`bundle: guests/heartbeat.elf: referenced by domain "web1" but not in the bundle`},
		{"image-not-elf", func(f map[string][]byte) { f["guests/heartbeat.elf"] = []byte("nope") },
			`bundle: domain "web1": guests/heartbeat.elf: not an ELF image`},
		{"image-no-note", func(f map[string][]byte) {
			f["guests/agent.elf"] = gt.ELF(gt.Spec{Segments: []gt.Segment{{Paddr: 0x100000, Data: []byte{1}}}})
		}, `bundle: domain "dom0": guests/agent.elf: no PVH entry note`},
		{"image-too-big", func(f map[string][]byte) { f["guests/heartbeat.elf"] = huge },
			`bundle: domain "web1": guests/heartbeat.elf: needs at least 71 MiB of guest RAM, has 64 MiB`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := goodFiles()
			tc.edit(files)
			_, err := Parse(mustWrite(t, goodConfig, files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

const linuxConfig = `[[domain]]
name = "linux"
kernel = "linux/vmlinuz"
initrd = "linux/initramfs.cpio"
memory_mb = 64
cmdline = "console=ttyS0"
vcpus = 2
`

func linuxFiles() map[string][]byte {
	return map[string][]byte{"linux/vmlinuz": gt.BzImage(), "linux/initramfs.cpio": []byte("070701 an initramfs")}
}

func TestParseLinux(t *testing.T) {
	b, err := Parse(mustWrite(t, linuxConfig, linuxFiles()))
	if err != nil {
		t.Fatal(err)
	}
	k, err := b.Kernel("linux")
	if err != nil || k.Name != "linux/vmlinuz" || k.Header.InitSize != gt.BzInitSize {
		t.Fatalf("Kernel(linux) = %+v, %v", k, err)
	}
	if _, err := b.Image("linux"); err == nil {
		t.Error("Image(linux) found a PVH image for a Linux domain")
	}
}

func TestParseRefusesLinux(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		edit   func(map[string][]byte)
		want   string
	}{
		{"kernel-missing", linuxConfig, func(f map[string][]byte) { delete(f, "linux/vmlinuz") },
			`bundle: linux/vmlinuz: referenced by domain "linux" but not in the bundle`},
		{"initrd-missing", linuxConfig, func(f map[string][]byte) { delete(f, "linux/initramfs.cpio") },
			`bundle: domain "linux": initrd linux/initramfs.cpio: not in the bundle`},
		{"kernel-not-bzimage", linuxConfig, func(f map[string][]byte) { f["linux/vmlinuz"] = gt.Simple(true) },
			`bundle: domain "linux": linux/vmlinuz: neither a Linux bzImage ("HdrS" at byte 0x202) nor a multiboot kernel`},
		{"bzimage-as-image", strings.Replace(strings.Replace(linuxConfig, "kernel =", "image =", 1), "initrd = \"linux/initramfs.cpio\"\n", "", 1),
			nil, `bundle: domain "linux": linux/vmlinuz: a Linux bzImage: name it with kernel, not image`},
		{"too-little-memory", strings.Replace(linuxConfig, "memory_mb = 64", "memory_mb = 24", 1), nil,
			`bundle: domain "linux": linux/vmlinuz: kernel and a 1 MiB initrd need at least 25 MiB of guest RAM, has 24 MiB`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := linuxFiles()
			if tc.edit != nil {
				tc.edit(files)
			}
			_, err := Parse(mustWrite(t, tc.config, files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

const multibootConfig = `[[domain]]
name = "sieve"
kernel = "x86/sieve.flat"
initrd = "env"
memory_mb = 128
cmdline = "a b"
vcpus = 2
`

func multibootFiles() map[string][]byte {
	return map[string][]byte{"x86/sieve.flat": gt.MultibootELF(0x400000), "env": []byte("NR_CPUS=2\n")}
}

func TestParseMultiboot(t *testing.T) {
	b, err := Parse(mustWrite(t, multibootConfig, multibootFiles()))
	if err != nil {
		t.Fatal(err)
	}
	if d := b.Config.Domains[0]; d.Boot() != "x86/sieve.flat" || d.Initrd != "env" {
		t.Errorf("domain %+v", d)
	}
}

func TestParseRefusesMultiboot(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		edit   func(map[string][]byte)
		want   string
	}{
		{"bad-header", multibootConfig, func(f map[string][]byte) { f["x86/sieve.flat"] = gt.MultibootHeader(1 << 2) },
			`bundle: domain "sieve": x86/sieve.flat: multiboot header asks for a video mode (flag 2)`},
		{"multiboot-as-image", strings.Replace(strings.Replace(multibootConfig, "kernel =", "image =", 1), "initrd = \"env\"\n", "", 1),
			nil, `bundle: domain "sieve": x86/sieve.flat: a multiboot kernel: name it with kernel, not image`},
		{"outside-ram", multibootConfig, func(f map[string][]byte) { f["x86/sieve.flat"] = gt.MultibootELF(0x8000000) },
			`bundle: domain "sieve": x86/sieve.flat: segment [0x8000000, 0x8000040) is outside the domain's 128 MiB of RAM`},
		{"initrd-missing", multibootConfig, func(f map[string][]byte) { delete(f, "env") },
			`bundle: domain "sieve": initrd env: not in the bundle`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := multibootFiles()
			if tc.edit != nil {
				tc.edit(files)
			}
			_, err := Parse(mustWrite(t, tc.config, files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestParseSharedBrokenImageReportedOnce(t *testing.T) {
	cfg := domainTOML(map[string]string{"name": `"a"`}) + domainTOML(map[string]string{"name": `"b"`})
	_, err := Parse(mustWrite(t, cfg, map[string][]byte{"guests/web.elf": []byte("junk")}))
	if err == nil || strings.Count(err.Error(), "not an ELF") != 1 {
		t.Errorf("got %v", err)
	}
}

// archive builds a cpio from records as given, for archives Write would
// not make.
func archive(t *testing.T, recs ...cpio.Record) []byte {
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseRefusesArchive(t *testing.T) {
	good := mustWrite(t, goodConfig, goodFiles())
	cfgRec := cpio.StaticFile(ConfigName, goodConfig, 0o644)
	badMagic := bytes.Clone(good)
	copy(badMagic, "070707")
	hugeName := bytes.Clone(good)
	copy(hugeName[94:], "7FFFFFFF")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bundle: archive truncated at byte 0: no TRAILER!!! record"},
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, "bundle: gzip-compressed"},
		{"short", []byte("0707"), "bundle: archive truncated at byte 0"},
		{"header-cut", good[:50], "bundle: archive truncated at byte 0: header cut short"},
		{"bad-magic", badMagic, `bundle: not a newc cpio archive: magic "070707" at byte 0, want "070701"`},
		{"text", []byte(strings.Repeat("not a cpio archive at all ", 10)), "bundle: not a newc cpio archive"},
		{"truncated-in-header", good[:len(good)/2], "bundle: archive truncated"},
		{"truncated-in-data", good[:300], "archive truncated"},
		{"no-trailer", good[:len(good)-124], "no TRAILER!!! record"},
		{"huge-name", hugeName, "record name runs past the end"},
		{"config-missing", archive(t, cpio.StaticFile("guests/a.elf", "x", 0o644)), "bundle: no grove.toml at the root of the archive"},
		{"config-in-dir", archive(t, cpio.StaticFile("etc/grove.toml", goodConfig, 0o644)), "bundle: no grove.toml"},
		{"symlink", archive(t, cfgRec, cpio.Symlink("guests/agent.elf", "x")), "bundle: guests/agent.elf: not a regular file or directory"},
		{"device", archive(t, cfgRec, cpio.CharDev("dev/null", 0o666, 1, 3)), "dev/null: not a regular file"},
		{"bad-config", mustWrite(t, "x = ", nil), "grove.toml:1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestParseDuplicateFile(t *testing.T) {
	// u-root's writer drops duplicates, so join two archives' records by
	// hand: the second copy follows the first without a trailer between.
	a := archive(t, cpio.StaticFile(ConfigName, goodConfig, 0o644))
	trailer := archive(t)
	data := append(bytes.Clone(a[:len(a)-len(trailer)]), a...)
	_, err := Parse(data)
	if err == nil || !strings.Contains(err.Error(), "bundle: grove.toml: in the archive twice") {
		t.Errorf("got %v", err)
	}
}

func TestParseSkipsDirectoriesAndTrailingPadding(t *testing.T) {
	recs := []cpio.Record{cpio.Directory(".", 0o755), cpio.Directory("guests", 0o755),
		cpio.StaticFile(ConfigName, goodConfig, 0o644)}
	for name, b := range goodFiles() {
		recs = append(recs, cpio.StaticRecord(b, cpio.Info{Name: "./" + name, Mode: cpio.S_IFREG | 0o644}))
	}
	data := append(archive(t, recs...), make([]byte, 512)...) // cpio(1) pads to blocks
	if _, err := Parse(data); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRefusesPaths(t *testing.T) {
	for _, name := range []string{"", "/abs", "../up", "a//b", ConfigName} {
		t.Run(name, func(t *testing.T) {
			if _, err := Write(nil, map[string][]byte{name: nil}); err == nil {
				t.Errorf("Write accepted %q", name)
			}
		})
	}
}

// TestRealImages bundles the Go guests `make guests` builds, as the demo
// does, when they are there.
func TestRealImages(t *testing.T) {
	files := map[string][]byte{}
	for _, n := range []string{"agent.elf", "heartbeat.elf"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "out", n))
		if err != nil {
			t.Skipf("no out/%s (run make guests): %v", n, err)
		}
		files["guests/"+n] = b
	}
	b, err := Parse(mustWrite(t, goodConfig, files))
	if err != nil {
		t.Fatal(err)
	}
	if img, _ := b.Image("dom0"); img == nil || img.Entry == 0 {
		t.Errorf("dom0 image %+v", img)
	}
}
