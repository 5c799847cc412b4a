package qemu

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Benchmarks (make bench). Each boots QEMU several times and reports medians;
// the baseline is measured in the same run.

const bootRuns = 5

// buildProbe builds the minimal image of boot/image's tests: its entry64
// prints one line and powers off at once, so booting it measures QEMU's
// own start-up (firmware, loader) without Grove.
func buildProbe(b *testing.B) string {
	dir := b.TempDir()
	linked, img := filepath.Join(dir, "probe.linked"), filepath.Join(dir, "probe.elf")
	build := exec.Command("go", "build", "-ldflags=-T 0x200000 -R 0x1000", "-o", linked, ".")
	build.Dir = "../boot/image/testdata/bootprobe"
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the boot probe: %v\n%s", err, out)
	}
	patch := exec.Command("go", "run", "grove/cmd/groveimg", "-entry", "main.entry64",
		"-pagetables", "main.bootPageTables", "-o", img, linked)
	if out, err := patch.CombinedOutput(); err != nil {
		b.Fatalf("patching the boot probe: %v\n%s", err, out)
	}
	return img
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// BenchmarkBoot: QEMU start to Grove's "selftest:" line (no tests selected,
// so this is boot to main plus banner) against QEMU start to the probe's
// first line (firmware and loader only); the difference is Grove's own boot.
func BenchmarkBoot(b *testing.B) {
	im := Build(b)
	probe := buildProbe(b)
	var base, grove, full []time.Duration
	for i := 0; i < bootRuns; i++ {
		r := Start(b, "probe", Boot{Kernel: probe, Timeout: time.Minute})
		r.Expect("BOOT64", 30*time.Second) // the probe's first and only line
		base = append(base, time.Since(r.started))
		r.WantStatus(StatusSuccess)

		r = Start(b, "grove", Boot{Kernel: im.Grove, Append: "selftest=none", Timeout: time.Minute})
		r.Expect("selftest: 0 passed", 30*time.Second)
		grove = append(grove, time.Since(r.started))
		r.WantStatus(StatusSuccess)
	}
	r := Start(b, "selftest", Boot{Kernel: im.Grove, Append: "selftest", Timeout: 5 * time.Minute})
	r.Expect("selftest: ", 4*time.Minute)
	full = append(full, time.Since(r.started))
	r.WantStatus(StatusSuccess)

	st, err := os.Stat(im.Grove)
	if err != nil {
		b.Fatal(err)
	}
	mb, mg := median(base), median(grove)
	b.ReportMetric(float64(mb.Milliseconds()), "ms-qemu-baseline")
	b.ReportMetric(float64(mg.Milliseconds()), "ms-to-selftest-line")
	b.ReportMetric(float64((mg - mb).Milliseconds()), "ms-grove-own-boot")
	b.ReportMetric(float64(full[0].Milliseconds()), "ms-full-selftest")
	b.ReportMetric(float64(st.Size())/(1<<20), "MiB-image")
	b.Logf("boot (median of %d): QEMU+probe %v, QEMU+Grove to selftest line %v, Grove's own %v; full selftest run %v; image %.2f MiB",
		bootRuns, mb, mg, mg-mb, full[0], float64(st.Size())/(1<<20))
}

var benchLine = regexp.MustCompile(`bench: (\S+) (\d+) ns/op`)

// BenchmarkSyscalls runs the in-image micro-benchmarks (`-append bench`):
// getpid is the null system call baseline for futex ping-pong and
// nanosleep(0).
func BenchmarkSyscalls(b *testing.B) {
	im := Build(b)
	r := Start(b, "bench", Boot{Kernel: im.Grove, Append: "bench", Timeout: 3 * time.Minute})
	r.Expect("bench: futex-pingpong", 2*time.Minute)
	r.Expect("ns/op", 5*time.Second)
	r.WantStatus(StatusSuccess)
	got := map[string]float64{}
	for _, m := range benchLine.FindAllStringSubmatch(r.Serial(), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		got[m[1]] = v
		b.ReportMetric(v, "ns-"+m[1])
	}
	for _, k := range []string{"getpid", "nanosleep0", "futex-pingpong"} {
		if _, ok := got[k]; !ok {
			b.Fatalf("no %s figure in:\n%s", k, r.Serial())
		}
	}
	b.Logf("in-image: getpid %.0f ns, nanosleep(0) %.0f ns (%.1fx getpid), futex ping-pong %.0f ns/round trip (%.1fx getpid)",
		got["getpid"], got["nanosleep0"], got["nanosleep0"]/got["getpid"], got["futex-pingpong"], got["futex-pingpong"]/got["getpid"])
}

const perRound = 40_000

var (
	tscLine    = regexp.MustCompile(`clock: TSC (\d+) MHz`)
	cyclesLine = regexp.MustCompile(`\(d1\) (null-hypercall|cpuid-exit) (hi|lo) ([0-9a-f]{8})`)
)

// BenchmarkExits: 120,000 null hypercalls against 120,000 CPUID exits, in
// three alternating rounds of 40,000, timed by the guest with RDTSC.
func BenchmarkExits(b *testing.B) {
	im := Build(b)
	r := Start(b, "exits", Boot{Kernel: im.Grove, Append: "guest=bench", Timeout: 5 * time.Minute})
	r.Expect("(d1) shut down", 4*time.Minute)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
	all := r.All()
	m := tscLine.FindStringSubmatch(all)
	if m == nil {
		b.Fatal("no TSC rate in the banner")
	}
	mhz, _ := strconv.ParseFloat(m[1], 64)
	// Rounds print hi then lo; the best round of each kind is the figure
	// (least disturbed by the rest of the machine).
	best := map[string]float64{}
	var hiPart uint64
	for _, c := range cyclesLine.FindAllStringSubmatch(all, -1) {
		v, _ := strconv.ParseUint(c[3], 16, 32)
		if c[2] == "hi" {
			hiPart = v << 32
			continue
		}
		per := float64(hiPart|v) / perRound
		if cur, ok := best[c[1]]; !ok || per < cur {
			best[c[1]] = per
		}
	}
	null, cpuid := best["null-hypercall"], best["cpuid-exit"]
	if null == 0 || cpuid == 0 {
		b.Fatalf("missing figures in:\n%s", r.Serial())
	}
	b.ReportMetric(null, "cycles-null-hypercall")
	b.ReportMetric(cpuid, "cycles-cpuid-exit")
	b.ReportMetric(null/mhz*1000, "ns-null-hypercall")
	b.ReportMetric(cpuid/mhz*1000, "ns-cpuid-exit")
	b.ReportMetric(null/cpuid, "ratio-null/cpuid")
}

// BenchmarkGuestStart: QEMU start to Grove's prompt, and to each Go guest's
// first line; and the hypervisor memory each domain costs beyond its RAM.
func BenchmarkGuestStart(b *testing.B) {
	im := Build(b)
	hb := im.Heartbeat
	r := Start(b, "start", Boot{Kernel: im.Grove, Initrd: hb + " name=a," + hb + " name=b," + hb + " name=c"})
	t0 := r.started
	r.Expect("clock: TSC", 30*time.Second)
	grove := time.Since(t0) // banner done: Grove is up
	r.Expect("(d1) heartbeat: Go", 30*time.Second)
	first := time.Since(t0)
	r.Expect("(d3) heartbeat: Go", 30*time.Second)
	last := time.Since(t0)
	if !strings.Contains(r.All(), "(d2) heartbeat: Go") {
		b.Fatalf("d2 never started:\n%s", r.Serial())
	}
	r.Send("list\r")
	out := r.Expect("d3   c", 10*time.Second)
	out += r.Expect("KiB", 10*time.Second)
	r.Send("halt\r")
	r.WantStatus(StatusSuccess)
	b.ReportMetric(float64(grove.Milliseconds()), "ms-grove-ready")
	b.ReportMetric(float64(first.Milliseconds()), "ms-first-guest-output")
	b.ReportMetric(float64(last.Milliseconds()), "ms-third-guest-output")
	b.ReportMetric(float64((last - grove).Milliseconds()), "ms-guests-after-grove")
	kb := regexp.MustCompile(`overhead=(\d+)KiB`).FindAllStringSubmatch(out, -1)
	if len(kb) == 0 {
		b.Fatalf("no overhead figures in:\n%s", out)
	}
	worst := 0
	for _, m := range kb {
		v, _ := strconv.Atoi(m[1])
		worst = max(worst, v)
	}
	b.ReportMetric(float64(worst), "KiB-overhead-per-domain")
}
