#!/bin/bash
# selftest.sh IMAGE - boot IMAGE with `-append selftest` on the plain QEMU
# line, with a deadline; pass only on QEMU exit status 33 and a clean
# "selftest: N passed, 0 failed" line. On failure print the serial tail.
# Single-threaded TCG: multi-threaded TCG's SVM sometimes corrupts a guest
# that exits very often (docs/qemu-tcg.md); the qemu package runs the
# self-tests' parallel side under it (TestSelftest, TestSMPBoot).
set -u
image=${1:?usage: selftest.sh IMAGE}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cmd=(qemu-system-x86_64 -machine q35 -cpu max -m 512M -smp 2 -accel tcg,thread=single -nographic -no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$image" -append selftest)
echo "+ ${cmd[*]}"
timeout 300 "${cmd[@]}" </dev/null >"$log" 2>&1
status=$?
grep -a -E '^(ok|FAIL) |^selftest:' "$log" | tr -d '\r'
if [ $status -eq 33 ] && grep -aq 'selftest: [0-9]* passed, 0 failed' "$log"; then
	exit 0
fi
[ $status -eq 124 ] && echo "selftest: QEMU timed out after 300 s"
echo "selftest: failed (QEMU exit status $status); last serial lines:"
tail -n 40 "$log" | tr -d '\r'
exit 1
