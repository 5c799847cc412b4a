package main

import (
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"

	"grove/cmd/conformance/peer"
	"grove/internal/kvmhost"
)

// The KVM peer's initramfs (docs/conformance.md), built by package
// kvmhost: the host's own QEMU with the libraries ldd lists, the firmware
// a -kernel boot of a test kernel reads (found by trial: QEMU names what
// it misses), KVM's modules from `make linux`, the test kernels, the tests
// and cmd/conformance/kvminit as /init.

// peerQEMU is where the initramfs holds QEMU: kvminit runs it there.
const peerQEMU = kvmhost.QEMU

// peerFirmware: the files of QEMU's data directories (relative to its
// binary's ../share) that a q35 -kernel boot of a multiboot kernel under
// KVM opens.
var peerFirmware = []string{
	"seabios/bios-256k.bin",
	"qemu/kvmvapic.bin",
	"qemu/multiboot_dma.bin",
}

// peerFiles lists the host files the initramfs holds: init, QEMU and
// what it needs, the modules and the kernels (name: DIR/x86/FILE, put at
// kut/x86/FILE).
func peerFiles(qemu, init, linux string, kernels []string) ([]kvmhost.File, error) {
	q, err := kvmhost.QEMUFiles(qemu, peerFirmware)
	if err != nil {
		return nil, err
	}
	files := append([]kvmhost.File{{Name: "init", Host: init}}, q...)
	files = append(files, kvmhost.ModuleFiles(linux)...)
	for _, k := range kernels {
		files = append(files, kvmhost.File{Name: "kut/x86/" + filepath.Base(k), Host: k})
	}
	return files, nil
}

// writePeerInitrd writes the newc cpio: the console, the tests as
// peer.TestsFile and the files with their directories.
func writePeerInitrd(dst string, files []kvmhost.File, tests []peer.Test) error {
	list, err := json.Marshal(tests)
	if err != nil {
		return err
	}
	return kvmhost.WriteInitrd(dst, files, cpio.StaticFile(strings.TrimPrefix(peer.TestsFile, "/"), string(list), 0o644))
}
