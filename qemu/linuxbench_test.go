package qemu

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// linuxBootRuns is how many boots each way BenchmarkLinuxBoot times.
const linuxBootRuns = 3

// BenchmarkLinuxBoot: QEMU start to u-root's first line ("Welcome to
// u-root!", printed by /init) with Debian's kernel and the u-root
// initramfs (1 vCPU, 256 MiB), booted directly by QEMU TCG (the baseline),
// as a Grove domain (issue 13's target: at most 1.5x) and by the peer a
// user would pick instead, QEMU with Linux's KVM as the hypervisor inside
// the same TCG machine (kvmLinuxBoots; its time runs from its QEMU's
// start inside that machine), each with the full boot log on the serial
// console and with `quiet`. Every byte Linux prints costs a Grove domain
// two exits (LSR, then THR), so the two show the console's share. The
// Grove figures include Grove's own boot and its loading of the bundle;
// the exits by kind are those of the last Grove boot with the full log,
// from the domain's creation to /init.
func BenchmarkLinuxBoot(b *testing.B) {
	im := Build(b)
	rep := newReport(b, "linux-boot")
	variants := []linuxBootVariant{
		{"full log", "console=ttyS0"},
		{"quiet", "console=ttyS0 quiet"},
	}
	peer, err := kvmLinuxBoots(b, variants, linuxInitLine)
	if err != nil {
		rep.note("QEMU/KVM peer not measured: %v", err)
	}
	for _, v := range variants {
		direct, grove, kinds, booting := linuxBoots(b, im, v.cmdline)
		md, mg := ms(direct), ms(grove)
		rep.add("QEMU TCG direct, "+v.name+": Linux to init's first line", "ms", md)
		if mk := ms(peer[v.name]); mk != 0 {
			rep.add("QEMU/KVM peer (nested in TCG), "+v.name+": Linux to init's first line", "ms", mk).vs("direct", md)
		}
		figure := "Grove domain, " + v.name + ": Linux to init's first line"
		rep.add(figure, "ms", mg).vs("direct", md).want(onRatio(atMost(1.5, 13)))
		if mk := ms(peer[v.name]); mk != 0 {
			rep.add(figure, "ms", mg).vs("QEMU/KVM peer", mk)
		}
		if v.name != "full log" {
			continue
		}
		total := 0.0
		for _, m := range exitKindRE.FindAllStringSubmatch(kinds, -1) {
			n, _ := strconv.ParseFloat(m[2], 64)
			total += n
			if n > 0 {
				rep.add("exits while booting: "+m[1], "/s", n/booting.Seconds())
			}
		}
		rep.add("exits while booting: all", "/s", total/booting.Seconds())
	}
}

// linuxInitLine is the first line of u-root's init.
const linuxInitLine = "Welcome to u-root!"

// linuxBoots boots Linux with cmdline linuxBootRuns times each way and
// returns the median times to /init's first line, the last Grove boot's
// exits by kind ("io=N npf=N ...") and its time from the domain's
// creation to /init.
func linuxBoots(b *testing.B, im Images, cmdline string) (direct, grove time.Duration, kinds string, booting time.Duration) {
	dir := filepath.Join("..", "out", "linux")
	bundle := linuxBundle(b, im, strings.Replace(linuxDomain(1), `"console=ttyS0"`, `"`+cmdline+`"`, 1))
	var ds, gs []time.Duration
	for range linuxBootRuns {
		r := Start(b, "linux-direct", Boot{Kernel: filepath.Join(dir, "vmlinuz"), Initrd: filepath.Join(dir, "initramfs.cpio"),
			Append: cmdline, Mem: "256M", Args: []string{"-smp", "1"}, Timeout: 3 * time.Minute})
		r.Expect(linuxInitLine, 2*time.Minute)
		ds = append(ds, time.Since(r.started))
		r.kill()

		r = Start(b, "linux-grove", Boot{Kernel: im.Grove, Initrd: bundle, Mem: "1G", Timeout: 3 * time.Minute})
		r.Expect("grove: created d1 (linux)", 2*time.Minute)
		created := time.Since(r.started)
		r.Expect(linuxInitLine, 2*time.Minute)
		gs = append(gs, time.Since(r.started))
		booting = gs[len(gs)-1] - created
		r.Send("state 1\r") // the exits by kind, counted from the domain's start
		r.Expect("d1 v0 exits ", 30*time.Second)
		kinds = r.Expect("fast=", 30*time.Second) + r.Expect("\n", 30*time.Second)
		r.kill()
	}
	return median(ds), median(gs), kinds, booting
}

var exitKindRE = regexp.MustCompile(`([a-z]+)=(\d+)`)
