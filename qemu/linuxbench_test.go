package qemu

import (
	"path/filepath"
	"testing"
	"time"
)

// linuxBootRuns is how many boots each way BenchmarkLinuxBoot times.
const linuxBootRuns = 3

// BenchmarkLinuxBoot: QEMU start to Linux's "Run /init as init process"
// with Debian's kernel and the u-root initramfs (1 vCPU, 256 MiB), booted
// directly by QEMU TCG (the baseline) and as a Grove domain (issue 13's
// target: at most 1.5x). The Grove figure includes Grove's own boot and
// its loading of the bundle.
func BenchmarkLinuxBoot(b *testing.B) {
	im := Build(b)
	rep := newReport(b, "linux-boot")
	dir := filepath.Join("..", "out", "linux")
	bundle := linuxBundle(b, im, linuxDomain(1))
	const initLine = "Run /init as init process"
	var direct, grove []time.Duration
	for i := 0; i < linuxBootRuns; i++ {
		r := Start(b, "linux-direct", Boot{Kernel: filepath.Join(dir, "vmlinuz"), Initrd: filepath.Join(dir, "initramfs.cpio"),
			Append: "console=ttyS0", Mem: "256M", Args: []string{"-smp", "1"}, Timeout: 3 * time.Minute})
		r.Expect(initLine, 2*time.Minute)
		direct = append(direct, time.Since(r.started))
		r.kill()

		r = Start(b, "linux-grove", Boot{Kernel: im.Grove, Initrd: bundle, Mem: "1G", Timeout: 3 * time.Minute})
		r.Expect("(d1) [", 2*time.Minute)
		r.Expect(initLine, 2*time.Minute)
		grove = append(grove, time.Since(r.started))
		r.kill()
	}
	md, mg := ms(median(direct)), ms(median(grove))
	rep.add("QEMU TCG direct: Linux to /init", "ms", md)
	rep.add("Grove domain: Linux to /init", "ms", mg).vs("direct", md).want(onRatio(atMost(1.5, 13)))
}
