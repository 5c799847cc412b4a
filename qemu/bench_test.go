package qemu

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
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
// so this is boot to main plus banner) against QEMU booting the probe.
func BenchmarkBoot(b *testing.B) {
	im := Build(b)
	probe := buildProbe(b)
	var base, grove, full []time.Duration
	for i := 0; i < bootRuns; i++ {
		r := Start(b, "probe", Boot{Kernel: probe, Timeout: time.Minute})
		r.Expect("BOOT64", 30*time.Second)
		base = append(base, r.WantStatus(StatusSuccess))

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
