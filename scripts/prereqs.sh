#!/bin/sh
# prereqs.sh - make sure the tools `make run`, `make iso` and `make test`
# need are installed: QEMU, GRUB's ISO tooling for BIOS and UEFI, and OVMF
# (UEFI firmware for QEMU). As root it installs
# missing Debian packages; otherwise it prints the exact command and fails.
set -eu
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
# needfile: packages whose files matter but that install no command.
needfile() { [ -f "$1" ] || missing="$missing $2"; }
need qemu-system-x86_64 qemu-system-x86
need grub-mkrescue "grub-pc-bin grub-common"
needfile /usr/lib/grub/i386-pc/multiboot2.mod grub-pc-bin
needfile /usr/lib/grub/x86_64-efi/multiboot2.mod grub-efi-amd64-bin
needfile /usr/share/OVMF/OVMF_CODE.fd ovmf
needfile /usr/share/OVMF/OVMF_VARS.fd ovmf
need xorriso xorriso
need mformat mtools
command -v go >/dev/null 2>&1 || { echo "prereqs: Go 1.26 is needed (https://go.dev/dl)" >&2; exit 1; }
[ -z "$missing" ] && exit 0
pkgs=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "prereqs: installing $pkgs"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $pkgs >/dev/null
	exit 0
fi
echo "prereqs: missing tools; as root run:" >&2
echo "  apt-get update && apt-get install -y $pkgs" >&2
exit 1
