package hv

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"grove/domgrp"
	"grove/errno"
	"grove/guests/builtin"
	"grove/kernel"
	"grove/kernel/selftest"
)

// In-image tests (`-append selftest`) of what needs real SVM and kernel
// pages but no guest output: memory accounting, the domain life cycle,
// creation's undo and id exhaustion, and Xen's pause-count rules. The guests
// are guests/builtin's prebuilt images: the image links no assembler.

func init() {
	for _, t := range []selftest.Test{
		{Name: "hv/svm-enable", Run: testSVMEnable},
		{Name: "hv/guest-ram", Run: testGuestRAM},
		{Name: "hv/domain-lifecycle", Run: testLifecycle},
		{Name: "hv/create-undo", Run: testCreateUndo},
		{Name: "hv/pause-counts", Run: testPauseCounts},
	} {
		selftest.Register(t)
	}
}

var (
	testHVOnce sync.Once
	testHV     *Hypervisor
	testHVErr  error
)

func selftestHV() (*Hypervisor, error) {
	testHVOnce.Do(func() { testHV, testHVErr = Start(0) })
	return testHV, testHVErr
}

func testSVMEnable() error {
	if _, err := selftestHV(); err != nil {
		return err
	}
	if kernel.CPUFeatures().SVM && testHV == nil {
		return errors.New("SVM present but the hypervisor did not start")
	}
	return nil
}

func hvPages() int64 { return PagesHeld() }

// guestImage returns built-in guest name's image.
func guestImage(name string) ([]byte, error) {
	img, ok := builtin.Image(name)
	if !ok {
		return nil, fmt.Errorf("no built-in guest %q", name)
	}
	return img, nil
}

func testGuestRAM() error {
	before := hvPages()
	ram, err := newGuestRAM(16 << 20)
	if err != nil {
		return err
	}
	msg := []byte("across the 2 MiB boundary")
	gpa := uint64(hugePage - 7)
	if err := ram.write(gpa, msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if err := ram.read(gpa, got); err != nil || string(got) != string(msg) {
		return fmt.Errorf("read back %q, %v", got, err)
	}
	if hpa, ok := ram.npt.Translate(gpa); !ok || hpa != uint64(ram.chunks[0])+gpa {
		return fmt.Errorf("NPT maps gpa %#x to %#x (ok=%v)", gpa, hpa, ok)
	}
	if err := ram.write(16<<20-2, msg); err == nil {
		return errors.New("write past the end of guest RAM succeeded")
	}
	ram.free()
	if after := hvPages(); after != before {
		return fmt.Errorf("hypervisor pages %d before, %d after free", before, after)
	}
	return nil
}

// waitState polls until d reaches state st. A domain that crashed instead
// fails the wait at once, with the reason, rather than at the limit.
func waitState(d *Domain, st string, limit time.Duration) error {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		switch got := d.Info().State; {
		case got == st:
			return nil
		case got == "crashed":
			d.hv.sched.mu.Lock()
			why := d.crashReason
			d.hv.sched.mu.Unlock()
			return fmt.Errorf("d%d crashed while waiting for %s: %s", d.ID, st, why)
		}
	}
	return fmt.Errorf("d%d is %s after %v, want %s", d.ID, d.Info().State, limit, st)
}

func testLifecycle() error {
	h, err := selftestHV()
	if err != nil {
		return err
	}
	before := hvPages()
	img, err := guestImage("hello")
	if err != nil {
		return err
	}
	d, err := h.CreateDomain(Config{Name: "selftest-hello", MemoryMB: 4, Image: img})
	if err != nil {
		return err
	}
	if st := d.Info().State; st != "paused" {
		return fmt.Errorf("a new domain is %s, want paused", st)
	}
	if err := d.Unpause(); err != nil {
		return err
	}
	if err := waitState(d, "shutdown", 10*time.Second); err != nil {
		return err
	}
	if err := h.Destroy(d); err != nil {
		return err
	}
	if _, ok := h.Domain(d.ID); ok {
		return errors.New("destroyed domain still listed")
	}
	h.rcu.Barrier() // pages go back after a grace period
	if after := hvPages(); after != before {
		return fmt.Errorf("hypervisor pages %d before, %d after destroy", before, after)
	}
	return nil
}

func testPauseCounts() error {
	h, err := selftestHV()
	if err != nil {
		return err
	}
	img, err := guestImage("heartbeat")
	if err != nil {
		return err
	}
	d, err := h.CreateDomain(Config{Name: "selftest-pause", MemoryMB: 4, Image: img})
	if err != nil {
		return err
	}
	defer h.Destroy(d)
	// Created paused once: 254 more reach the limit of 255.
	for i := 0; i < maxPauseCount-1; i++ {
		if err := d.Pause(); err != nil {
			return fmt.Errorf("pause %d: %w", i+2, err)
		}
	}
	if err := d.Pause(); !errors.Is(err, errno.EOVERFLOW) {
		return fmt.Errorf("pause 256: %v, want EOVERFLOW", err)
	}
	for i := 0; i < maxPauseCount; i++ {
		if err := d.Unpause(); err != nil {
			return fmt.Errorf("unpause %d: %w", i+1, err)
		}
	}
	if err := d.Unpause(); !errors.Is(err, errno.EINVAL) {
		return fmt.Errorf("unpause at zero: %v, want EINVAL", err)
	}
	if err := waitState(d, "running", time.Second); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	if d.Info().Exits == 0 {
		return errors.New("unpaused domain never ran")
	}
	return nil
}

// fakeDom holds an id in the group table, so that AddDomain refuses a new
// domain with that id (EEXIST) after its memory and vCPU exist.
type fakeDom domgrp.DomID

func (f fakeDom) ID() domgrp.DomID { return domgrp.DomID(f) }
func (fakeDom) Pause() error       { return nil }
func (fakeDom) Unpause() error     { return nil }
func (fakeDom) WaitDescheduled()   {}

// testCreateUndo runs creation's failure paths on a hypervisor of its own
// with one domain id: a refusal by the group table gives back the pages and
// the id, and with the id taken creation is ENOSPC, naming the domain.
func testCreateUndo() error {
	if _, err := selftestHV(); err != nil { // SVM on
		return err
	}
	img, err := guestImage("heartbeat")
	if err != nil {
		return err
	}
	h, before := newHypervisor(0, 1, 1), hvPages()
	cfg := Config{Name: "selftest-undo", MemoryMB: 4, Image: img}
	if err := h.groups.AddDomain(fakeDom(1)); err != nil {
		return err
	}
	if _, err := h.CreateDomain(cfg); !errors.Is(err, errno.EEXIST) {
		return fmt.Errorf("create with id 1 in the group table: %v, want EEXIST", err)
	}
	if after := hvPages(); after != before || len(h.domains) != 0 || h.ids.n != 0 {
		return fmt.Errorf("after a refused create: pages %d (before %d), %d registered, %d ids taken",
			after, before, len(h.domains), h.ids.n)
	}
	if err := h.groups.RemoveDomain(1); err != nil {
		return err
	}
	d, err := h.CreateDomain(cfg)
	if err != nil {
		return fmt.Errorf("create once the id is free again: %w", err)
	}
	cfg.Name = "selftest-full"
	if _, err := h.CreateDomain(cfg); !errors.Is(err, errno.ENOSPC) || !strings.Contains(err.Error(), cfg.Name) {
		return fmt.Errorf("create with every id taken: %v, want ENOSPC naming %q", err, cfg.Name)
	}
	if err := h.Destroy(d); err != nil {
		return err
	}
	h.rcu.Barrier()
	if after := hvPages(); after != before {
		return fmt.Errorf("hypervisor pages %d before, %d after destroy", before, after)
	}
	return nil
}
