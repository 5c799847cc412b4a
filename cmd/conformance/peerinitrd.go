package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"

	"grove/cmd/conformance/peer"
)

// The KVM peer's initramfs (docs/conformance.md): the host's own QEMU with
// the libraries ldd lists, the firmware a -kernel boot of a test kernel
// reads (found by trial: QEMU names what it misses), KVM's modules from
// `make linux`, the test kernels, the tests and cmd/conformance/kvminit as
// /init.

// peerQEMU is where the initramfs holds QEMU: kvminit runs it there, and
// QEMU finds its firmware relative to itself.
const peerQEMU = "usr/bin/qemu-system-x86_64"

// peerFirmware: the files of QEMU's data directories (relative to its
// binary's ../share) that a q35 -kernel boot of a multiboot kernel under
// KVM opens.
var peerFirmware = []string{
	"seabios/bios-256k.bin",
	"qemu/kvmvapic.bin",
	"qemu/multiboot_dma.bin",
}

// kvmModules are `make linux`'s KVM modules, in load order.
var kvmModules = []string{"irqbypass", "kvm", "kvm-amd"}

// peerFile is one file of the initramfs: its name there and where its
// contents come from on the host.
type peerFile struct{ name, host string }

// peerFiles lists the host files the initramfs holds: init, QEMU and
// what it needs, the modules and the kernels (name: DIR/x86/FILE, put at
// kut/x86/FILE).
func peerFiles(qemu, init, linux string, kernels []string) ([]peerFile, error) {
	files := []peerFile{{"init", init}, {peerQEMU, qemu}}
	libs, err := sharedLibraries(qemu)
	if err != nil {
		return nil, err
	}
	for _, l := range libs {
		files = append(files, peerFile{strings.TrimPrefix(l, "/"), l})
	}
	share := filepath.Join(filepath.Dir(qemu), "..", "share")
	for _, f := range peerFirmware {
		files = append(files, peerFile{"usr/share/" + f, filepath.Join(share, f)})
	}
	for _, m := range kvmModules {
		files = append(files, peerFile{"modules/" + m + ".ko", filepath.Join(linux, "kvm", m+".ko")})
	}
	for _, k := range kernels {
		files = append(files, peerFile{"kut/x86/" + filepath.Base(k), k})
	}
	return files, nil
}

// sharedLibraries runs ldd on bin.
func sharedLibraries(bin string) ([]string, error) {
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

// writePeerInitrd writes the newc cpio: /dev/console (the kernel opens it
// for init before devtmpfs is mounted), the files with their directories,
// and the tests as peer.TestsFile.
func writePeerInitrd(dst string, files []peerFile, tests []peer.Test) error {
	list, err := json.Marshal(tests)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	w := cpio.Newc.Writer(bw)
	recs := []cpio.Record{cpio.Directory("dev", 0o755), cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.StaticFile(strings.TrimPrefix(peer.TestsFile, "/"), string(list), 0o644)}
	dirs := map[string]bool{"dev": true}
	for _, pf := range files {
		data, err := os.ReadFile(pf.host)
		if err != nil {
			return fmt.Errorf("KVM peer's initramfs: %v", err)
		}
		recs = append(recs, parents(pf.name, dirs)...)
		recs = append(recs, cpio.StaticFile(pf.name, string(data), 0o755))
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
