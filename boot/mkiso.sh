#!/bin/sh
# mkiso.sh IMAGE OUT.iso [cmdline] - wrap a groveimg-patched kernel in one
# GRUB rescue ISO that boots under BIOS (SeaBIOS: El Torito + i386-pc GRUB)
# and under UEFI (OVMF: an EFI system partition with x86_64-efi GRUB).
# The default menu entry loads it with multiboot2, which GRUB offers on both
# firmwares; a second entry uses multiboot v1 (BIOS only). The console is
# COM1 at 115200 baud and the menu does not wait.
# Needs grub-mkrescue (grub-common), grub-pc-bin, grub-efi-amd64-bin,
# xorriso and mtools.
set -eu

usage() { echo "usage: $0 IMAGE OUT.iso [cmdline]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
image=$1 out=$2 cmdline=${3:-}
[ -f "$image" ] || { echo "$0: $image: no such file" >&2; exit 1; }
pkgs="grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools"
command -v grub-mkrescue >/dev/null 2>&1 || {
	echo "$0: grub-mkrescue not found: apt-get install -y $pkgs" >&2
	exit 1
}
# grub-mkrescue quietly leaves out a platform whose modules are missing.
for platform in i386-pc x86_64-efi; do
	[ -f "/usr/lib/grub/$platform/multiboot2.mod" ] || {
		echo "$0: /usr/lib/grub/$platform/multiboot2.mod missing: apt-get install -y $pkgs" >&2
		exit 1
	}
done

dir=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$dir" "$log"' EXIT INT TERM
mkdir -p "$dir/boot/grub"
cp "$image" "$dir/boot/grove.elf"
cat >"$dir/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0
menuentry "Grove (multiboot2)" {
	multiboot2 /boot/grove.elf $cmdline
	boot
}
menuentry "Grove (multiboot v1, BIOS only)" {
	multiboot /boot/grove.elf $cmdline
	boot
}
CFG
# grub-mkrescue is chatty on stderr even when it succeeds; keep it for errors.
if ! grub-mkrescue -o "$out" "$dir" >"$log" 2>&1; then
	cat "$log" >&2
	exit 1
fi
