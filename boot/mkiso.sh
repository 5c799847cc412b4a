#!/bin/sh
# mkiso.sh IMAGE OUT.iso [cmdline] - wrap a groveimg-patched kernel in a
# GRUB (BIOS + EFI if available) rescue ISO that boots it via multiboot v1
# with GRUB and the console on COM1 at 115200 baud.
# Needs grub-mkrescue (grub-pc-bin, grub-common), xorriso and mtools.
set -eu

usage() { echo "usage: $0 IMAGE OUT.iso [cmdline]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
image=$1 out=$2 cmdline=${3:-}
[ -f "$image" ] || { echo "$0: $image: no such file" >&2; exit 1; }
command -v grub-mkrescue >/dev/null 2>&1 || {
	echo "$0: grub-mkrescue not found: apt-get install -y grub-pc-bin grub-common xorriso mtools" >&2
	exit 1
}

dir=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$dir" "$log"' EXIT INT TERM
mkdir -p "$dir/boot/grub"
cp "$image" "$dir/boot/grove.elf"
cat >"$dir/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "Grove" {
	multiboot /boot/grove.elf $cmdline
	boot
}
CFG
# grub-mkrescue is chatty on stderr even when it succeeds; keep it for errors.
if ! grub-mkrescue -o "$out" "$dir" >"$log" 2>&1; then
	cat "$log" >&2
	exit 1
fi
