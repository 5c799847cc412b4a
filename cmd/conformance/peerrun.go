package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"grove/cmd/conformance/peer"
)

// The KVM peer runs the vmexit tests under QEMU/KVM nested in the same TCG
// that runs Grove: Debian's kernel (`make linux`) boots in QEMU with
// Grove's machine (q35, -cpu max, single-threaded TCG on two CPUs), loads
// KVM, and runs the host's QEMU with -accel kvm on each test
// (docs/conformance.md).

// peerConfig says where the peer's parts are.
type peerConfig struct {
	on    bool   // -kvm-peer
	linux string // `make linux`'s directory: vmlinuz, kvm/*.ko
	init  string // kvminit, built static
}

// peerBoot is the time the peer's kernel gets to boot and load KVM, and
// peerMemoryMB its RAM: the initramfs (QEMU and its libraries, about 60
// MiB) unpacked, and a nested QEMU with the test's RAM.
const (
	peerBoot     = 3 * time.Minute
	peerMemoryMB = 1024
)

// peerJobs are the jobs the peer runs: the vmexit tests, as far as they
// ran.
func peerJobs(jobs []job) []job {
	var out []job
	for _, j := range jobs {
		if j.skip == "" && isVMExit(j.Name) {
			out = append(out, j)
		}
	}
	return out
}

// peerArgs is the nested QEMU's command line for j: the direct run's, on
// KVM with the host CPU, the kernel in the initramfs, and the PIT policy
// the suite's x86/run sets for KVM.
func peerArgs(j job) []string {
	args := qemuArgs(j, "kvm", "host", "/kut/x86/"+j.File)
	base := len(args) - len(j.params)
	return slices.Insert(args, base, "-global", "kvm-pit.lost_tick_policy=discard")
}

// kvmPeer runs jobs in the peer and returns each one's result, or why the
// peer did not run at all.
func (r *runner) kvmPeer(ctx context.Context, pc peerConfig, jobs []job, progress io.Writer) (map[string]result, string) {
	if !pc.on {
		return nil, "not run (-kvm-peer=false)"
	}
	if len(jobs) == 0 {
		return nil, "no vmexit tests ran"
	}
	dir, err := os.MkdirTemp("", "grove-kvm-peer-")
	if err != nil {
		return nil, err.Error()
	}
	defer os.RemoveAll(dir)
	tests, total := peerTests(jobs, r.scale)
	initrd := filepath.Join(dir, "peer.cpio")
	if why := r.buildPeer(pc, jobs, tests, initrd); why != "" {
		return nil, why
	}
	ctx, cancel := context.WithTimeout(ctx, peerBoot+total)
	defer cancel()
	console, err := r.bootPeer(ctx, pc, initrd, tests, progress)
	if err != nil {
		return nil, err.Error()
	}
	return peerResults(peer.Parse(console), jobs, r.scale, ctx.Err() != nil)
}

// peerTests turns jobs into the init's list; each test gets its limit
// times scale (its exits are nested, as Grove's are), the whole run their
// sum and a silent first run's each.
func peerTests(jobs []job, scale float64) ([]peer.Test, time.Duration) {
	var tests []peer.Test
	var total time.Duration
	for _, j := range jobs {
		limit := time.Duration(float64(j.limit) * scale)
		tests = append(tests, peer.Test{Name: j.Name, Args: peerArgs(j), Timeout: limit})
		total += limit + peer.SilentLimit
	}
	return tests, total
}

// buildPeer checks the parts and writes the initramfs; the result is why
// it could not.
func (r *runner) buildPeer(pc peerConfig, jobs []job, tests []peer.Test, initrd string) string {
	for _, f := range []string{filepath.Join(pc.linux, "vmlinuz"), filepath.Join(pc.linux, "kvm", "kvm-amd.ko")} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Sprintf("not run: %v (make linux fetches Debian's kernel and KVM's modules)", err)
		}
	}
	if _, err := os.Stat(pc.init); err != nil {
		return fmt.Sprintf("not run: %v (make conformance builds cmd/conformance/kvminit)", err)
	}
	qemu, err := exec.LookPath(r.qemu)
	if err != nil {
		return "not run: " + err.Error()
	}
	var kernels []string
	for _, j := range jobs {
		if !slices.Contains(kernels, j.kernel) {
			kernels = append(kernels, j.kernel)
		}
	}
	files, err := peerFiles(qemu, pc.init, pc.linux, kernels)
	if err == nil {
		err = writePeerInitrd(initrd, files, tests)
	}
	if err != nil {
		return "not run: " + err.Error()
	}
	return ""
}

// bootPeer boots the peer and returns its console once it powers off (or
// ctx ends), logging it to logs/kvm-peer.log (after the QEMU command and
// the nested ones) and printing each test's end as progress.
func (r *runner) bootPeer(ctx context.Context, pc peerConfig, initrd string, tests []peer.Test, progress io.Writer) (string, error) {
	log, err := os.Create(filepath.Join(r.logs, "kvm-peer.log"))
	if err != nil {
		return "", err
	}
	defer log.Close()
	args := []string{"-machine", "q35", "-cpu", "max", "-accel", "tcg,thread=single", "-smp", "2",
		"-m", fmt.Sprintf("%dM", peerMemoryMB), "-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", filepath.Join(pc.linux, "vmlinuz"), "-initrd", initrd,
		"-append", "console=ttyS0 loglevel=1 panic=-1"}
	fmt.Fprintf(log, "# %s %s\n", r.qemu, strings.Join(args, " "))
	for _, t := range tests {
		fmt.Fprintf(log, "# %s in the peer (limit %v): /%s %s\n", t.Name, t.Timeout, peerQEMU, strings.Join(t.Args, " "))
	}
	cmd := exec.CommandContext(ctx, r.qemu, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		return "", err
	}
	var console strings.Builder
	sc := bufio.NewScanner(io.TeeReader(stdout, log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		console.WriteString(sc.Text() + "\n")
		peerProgress(progress, sc.Text())
	}
	cmd.Wait()
	return console.String(), nil
}

// peerProgress prints a line when the console says a test ended.
func peerProgress(w io.Writer, line string) {
	rep := peer.Parse(line)
	for _, name := range rep.Order {
		switch o := rep.Tests[name]; {
		case o.Failed != "":
			fmt.Fprintf(w, "        %s under QEMU/KVM nested: QEMU did not start: %s\n", name, o.Failed)
		case o.Silent:
			fmt.Fprintf(w, "        %s under QEMU/KVM nested: printed nothing in %v, twice\n", name, peer.SilentLimit)
		case o.Retry != "" && !o.Ended:
			fmt.Fprintf(w, "        %s under QEMU/KVM nested: %s; once more\n", name, o.Retry)
		case o.TimedOut:
			fmt.Fprintf(w, "        %s under QEMU/KVM nested: timeout after %.1fs\n", name, o.Time.Seconds())
		case o.Ended:
			fmt.Fprintf(w, "        %s under QEMU/KVM nested: QEMU exit %d after %.1fs\n", name, o.Code, o.Time.Seconds())
		}
	}
	if rep.Setup != "" {
		fmt.Fprintf(w, "        KVM peer: setup failed: %s\n", rep.Setup)
	}
}

// peerResults classifies each job's outcome as a direct run's (the nested
// QEMU's exit status is the test's).
func peerResults(rep peer.Report, jobs []job, scale float64, timedOut bool) (map[string]result, string) {
	if rep.Setup != "" {
		return nil, "setup failed: " + rep.Setup
	}
	res := map[string]result{}
	for _, j := range jobs {
		o := rep.Tests[j.Name]
		switch {
		case o == nil || !o.Ended:
			why := "the peer's kernel ended before the test did"
			if timedOut {
				why = "the peer timed out before the test ended"
			}
			res[j.Name] = result{Status: fail, Why: why}
		case o.Failed != "":
			res[j.Name] = result{Status: fail, Why: "QEMU did not start: " + o.Failed}
		case o.Silent:
			res[j.Name] = result{Status: fail, Why: fmt.Sprintf("QEMU printed nothing in %v, twice (hung before the test began)",
				peer.SilentLimit), Out: o.Out}
		default:
			limit := time.Duration(float64(j.limit) * scale)
			st, why := classifyDirect(o.TimedOut, o.Code, o.Out, o.Err, limit)
			res[j.Name] = result{Status: st, Why: why, Time: o.Time, Out: o.Out, Retry: o.Retry}
		}
	}
	return res, ""
}
