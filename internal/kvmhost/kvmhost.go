// Package kvmhost builds the initramfs of a KVM host that runs inside
// QEMU's TCG: Debian's kernel (`make linux`) boots it, its /init loads
// KVM's modules (out/linux/kvm, from the same kernel package) and runs the
// host's own qemu-system-x86_64, packed in with the libraries it links and
// the firmware it reads, with -accel kvm. The conformance runner's KVM
// peer (cmd/conformance, docs/conformance.md) and make bench's QEMU/KVM
// peer of a Linux boot (qemu/kvmpeer_test.go) are such hosts.
package kvmhost

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// QEMU is where the initramfs holds QEMU (its host path): QEMU finds its
// firmware relative to itself (../share/qemu, ../share/seabios).
const QEMU = "usr/bin/qemu-system-x86_64"

// LibraryPath is the LD_LIBRARY_PATH for QEMU in the initramfs, which
// holds its libraries at their host paths but no ld.so.cache.
const LibraryPath = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64"

// Modules are `make linux`'s KVM modules, in load order; the initramfs
// holds them as /modules/NAME.ko.
var Modules = []string{"irqbypass", "kvm", "kvm-amd"}

// File is one file of the initramfs: its name there and where its
// contents come from on the host.
type File struct{ Name, Host string }

// QEMUFiles are QEMU (the host binary at qemu), the shared libraries it
// needs (ldd's list, the dynamic loader among them) and the firmware
// files named relative to QEMU's data directory (its binary's ../share),
// each at its host path.
func QEMUFiles(qemu string, firmware []string) ([]File, error) {
	files := []File{{QEMU, qemu}}
	libs, err := SharedLibraries(qemu)
	if err != nil {
		return nil, err
	}
	for _, l := range libs {
		files = append(files, File{strings.TrimPrefix(l, "/"), l})
	}
	share := filepath.Join(filepath.Dir(qemu), "..", "share")
	for _, f := range firmware {
		files = append(files, File{"usr/share/" + f, filepath.Join(share, f)})
	}
	return files, nil
}

// ModuleFiles are KVM's modules from linux/kvm (linux is `make linux`'s
// directory), in load order.
func ModuleFiles(linux string) []File {
	var files []File
	for _, m := range Modules {
		files = append(files, File{"modules/" + m + ".ko", filepath.Join(linux, "kvm", m+".ko")})
	}
	return files
}

// SharedLibraries runs ldd on bin.
func SharedLibraries(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %v: %s", bin, err, bytes.TrimSpace(out))
	}
	return parseLdd(string(out))
}

var (
	lddArrow = regexp.MustCompile(`^\s*(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$`)
	lddPlain = regexp.MustCompile(`^\s*(/\S+) \(0x[0-9a-f]+\)$`)
)

// parseLdd reads ldd's output: "NAME => PATH (ADDR)" for a library,
// "PATH (ADDR)" for the dynamic loader, "NAME (ADDR)" for the vDSO (no
// file). A library ldd did not find is an error, as is a line it does not
// know.
func parseLdd(out string) ([]string, error) {
	var paths []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if m := lddArrow.FindStringSubmatch(l); m != nil {
			if !strings.HasPrefix(m[2], "/") {
				return nil, fmt.Errorf("ldd: %s not found", m[1])
			}
			paths = append(paths, m[2])
			continue
		}
		if m := lddPlain.FindStringSubmatch(l); m != nil {
			paths = append(paths, m[1])
			continue
		}
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "linux-vdso") {
			continue
		}
		return nil, fmt.Errorf("ldd: cannot read %q", l)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("ldd lists no libraries")
	}
	return paths, nil
}

// WriteInitrd writes a newc cpio to dst: /dev/console (the kernel opens
// it for init before devtmpfs is mounted), the extra records (files made
// in memory), then the files, each after the directories it needs, read
// from the host one at a time.
func WriteInitrd(dst string, files []File, extra ...cpio.Record) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	w := cpio.Newc.Writer(bw)
	recs := append([]cpio.Record{cpio.Directory("dev", 0o755), cpio.CharDev("dev/console", 0o600, 5, 1)}, extra...)
	dirs := map[string]bool{"dev": true}
	for _, r := range extra {
		if r.Mode&cpio.S_IFMT == cpio.S_IFDIR {
			dirs[r.Name] = true
		}
	}
	for _, pf := range files {
		data, err := os.ReadFile(pf.Host)
		if err != nil {
			return fmt.Errorf("KVM host's initramfs: %v", err)
		}
		recs = append(recs, parents(pf.Name, dirs)...)
		recs = append(recs, cpio.StaticFile(pf.Name, string(data), 0o755))
		if err := cpio.WriteRecords(w, recs); err != nil {
			return err
		}
		recs = nil
	}
	if err := cpio.WriteRecords(w, recs); err != nil {
		return err
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// parents are the directory records name needs that dirs does not have
// yet, outermost first; dirs records them.
func parents(name string, dirs map[string]bool) []cpio.Record {
	var recs []cpio.Record
	for d := path.Dir(name); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
		dirs[d] = true
		recs = append([]cpio.Record{cpio.Directory(d, 0o755)}, recs...)
	}
	return recs
}
