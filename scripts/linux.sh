#!/bin/sh
# linux.sh OUTDIR - put a Linux kernel and an initramfs for Grove's Linux
# guests in OUTDIR (docs/linux.md):
#
#   OUTDIR/vmlinuz           Debian's cloud kernel (linux-image-cloud-amd64),
#                            the bzImage exactly as Debian ships it
#   OUTDIR/initramfs.cpio    a u-root initramfs (newc cpio) with u-root's core
#                            commands, built by u-root at the version in go.mod
#                            (with the Bubble Tea fix below), and Grove's
#                            /bin/grove-probe (guests/probe)
#   OUTDIR/kvm/*.ko          KVM's modules from the same package (irqbypass,
#                            kvm, kvm-amd), for make bench's KVM peer
#
# Nothing comes from anywhere but Debian's package archive (apt-get) and the
# Go module proxy. Each file is skipped when present (the initramfs when
# built by the same recipe), so a second run does nothing; delete a file to
# fetch or build it again.
set -eu
out=${1:-out/linux}
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd) # the repository, for guests/probe

fail() { echo "linux: $*" >&2; exit 1; }

# kernel_pkg resolves the meta package to the versioned one it depends on
# (linux-image-6.1.0-NN-cloud-amd64), the package holding the bzImage.
kernel_pkg() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n 1
}

get_kernel() {
	[ -s "$out/vmlinuz" ] && { echo "linux: $out/vmlinuz present, skipped"; return; }
	command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: the kernel comes from Debian's packages"
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ]; then
		[ "$(id -u)" = 0 ] || fail "apt does not know linux-image-cloud-amd64; as root run: apt-get update"
		echo "linux: apt-get update (package lists do not name linux-image-cloud-amd64)"
		apt-get update -qq || fail "apt-get update failed: are Debian's package mirrors reachable?"
		pkg=$(kernel_pkg)
		[ -n "$pkg" ] || fail "linux-image-cloud-amd64 depends on no linux-image-*-cloud-amd64 package (apt-cache depends linux-image-cloud-amd64)"
	fi
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo "linux: apt-get download $pkg"
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
		fail "apt-get download $pkg failed (as root, apt-get update may help)"
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root" || fail "dpkg-deb -x of $pkg failed"
	set -- "$tmp"/root/boot/vmlinuz-*
	[ -f "$1" ] || fail "$pkg holds no /boot/vmlinuz-*"
	cp "$1" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
	echo "$pkg" >"$out/vmlinuz.package"
	echo "linux: wrote $out/vmlinuz ($(basename "$1"))"
}

# Bubble Tea v0.24.1, which u-root v0.16.0 requires, can deadlock as its
# program quits (charmbracelet/bubbletea#741, fixed in v0.24.2: the
# renderer's stop waited for its ticker while holding the lock the ticker
# needed). u-root's shell quits a Bubble Tea line editor at every Enter, so
# a line sometimes never ran; under Grove one line in three hung (docs/
# linux.md, "The shell that hung at Enter"). The initramfs is built with
# this release instead, keeping the bubbles version u-root has: the one
# v0.24.2's go.mod asks for no longer builds with u-root's line editor.
BUBBLETEA=v0.24.2

# get_initramfs installs u-root (the version go.mod requires) into a GOBIN
# under OUTDIR and builds the core commands, with a shell, into a cpio.
# initramfs.recipe names what it was built from; another recipe rebuilds it.
get_initramfs() {
	command -v go >/dev/null 2>&1 || fail "go not found: u-root is built with Go"
	ver=$(go list -m -f '{{.Version}}' github.com/u-root/u-root) ||
		fail "go.mod does not require github.com/u-root/u-root"
	# Grove's own command, /bin/grove-probe (guests/probe), built first:
	# the recipe names its hash, so a changed probe rebuilds the initramfs.
	work=$(mktemp -d)
	(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o "$work/grove-probe" ./guests/probe) ||
		{ rm -rf "$work"; fail "building guests/probe failed"; }
	probe=$(sha256sum "$work/grove-probe" | cut -c1-16)
	recipe="u-root $ver, bubbletea $BUBBLETEA, grove-probe $probe"
	if [ -s "$out/initramfs.cpio" ] && [ "$(cat "$out/initramfs.recipe" 2>/dev/null)" = "$recipe" ]; then
		rm -rf "$work"
		echo "linux: $out/initramfs.cpio present ($recipe), skipped"
		return
	fi
	bin="$out/bin"
	if [ ! -x "$bin/u-root" ] || [ "$(cat "$bin/u-root.version" 2>/dev/null)" != "$ver" ]; then
		echo "linux: go install github.com/u-root/u-root@$ver"
		GOBIN="$bin" go install "github.com/u-root/u-root@$ver" ||
			fail "go install github.com/u-root/u-root@$ver failed (is the Go module proxy reachable?)"
		echo "$ver" >"$bin/u-root.version"
	fi
	# u-root builds its commands from its own module, found in the module
	# cache; a writable copy of it takes the Bubble Tea fix.
	src=$(go mod download -json "github.com/u-root/u-root@$ver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -d "$src" ] || fail "u-root $ver is not in the module cache (go mod download github.com/u-root/u-root@$ver)"
	cp -R "$src" "$work/u-root" && chmod -R u+w "$work/u-root" || { rm -rf "$work"; fail "cannot copy u-root's source to $work"; }
	echo "linux: u-root with bubbletea $BUBBLETEA"
	(cd "$work/u-root" &&
		bubbles=$(go list -m -f '{{.Version}}' github.com/charmbracelet/bubbles) &&
		go mod edit -replace "github.com/charmbracelet/bubbles=github.com/charmbracelet/bubbles@$bubbles" &&
		go get "github.com/charmbracelet/bubbletea@$BUBBLETEA") ||
		{ rm -rf "$work"; fail "cannot move u-root $ver to bubbletea $BUBBLETEA (is the Go module proxy reachable?)"; }
	echo "linux: u-root -o initramfs.cpio core (about a minute)"
	(cd "$work/u-root" && GOOS=linux GOARCH=amd64 CGO_ENABLED=0 "$bin/u-root" -o "$out/initramfs.cpio.tmp" \
		-files "$work/grove-probe:bin/grove-probe" core) ||
		{ rm -rf "$work"; fail "u-root failed to build the initramfs"; }
	rm -rf "$work"
	mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
	echo "$recipe" >"$out/initramfs.recipe"
	echo "linux: wrote $out/initramfs.cpio ($recipe)"
}

# get_kvm_modules unpacks the kernel's package again for KVM's modules.
get_kvm_modules() {
	[ -s "$out/kvm/kvm-amd.ko" ] && { echo "linux: $out/kvm present, skipped"; return; }
	pkg=$(cat "$out/vmlinuz.package" 2>/dev/null || kernel_pkg)
	[ -n "$pkg" ] || fail "no kernel package known for KVM's modules (as root, apt-get update may help)"
	tmpk=$(mktemp -d)
	echo "linux: apt-get download $pkg (KVM's modules)"
	(cd "$tmpk" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
		{ rm -rf "$tmpk"; fail "apt-get download $pkg failed"; }
	dpkg-deb -x "$tmpk"/"$pkg"_*.deb "$tmpk/root" || { rm -rf "$tmpk"; fail "dpkg-deb -x of $pkg failed"; }
	mkdir -p "$out/kvm"
	for m in virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-amd; do
		set -- "$tmpk"/root/lib/modules/*/kernel/$m.ko
		[ -f "$1" ] || { rm -rf "$tmpk"; fail "$pkg holds no $m.ko"; }
		cp "$1" "$out/kvm/"
	done
	rm -rf "$tmpk"
	echo "linux: wrote $out/kvm (irqbypass.ko kvm.ko kvm-amd.ko)"
}

get_kernel
get_initramfs
get_kvm_modules
