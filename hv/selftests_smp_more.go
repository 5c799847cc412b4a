package hv

import (
	"fmt"
	"runtime"
	"time"

	"grove/domgrp"
	"grove/kernel"
	"grove/rcu"
)

// More of the hypervisor on several CPUs: destroy and group pause, issued
// on CPU 0, of a spinning guest that runs on the last CPU with a 2 s slice.
// Each must kick it off that CPU (a wait for the slice's end would take
// about a second) and return only once it is off every CPU.

// acrossCPUs creates the spinning domain on the last CPU, runs act on a
// thread pinned to CPU 0 once the domain runs there, and times act.
func acrossCPUs(act func(h *Hypervisor, d *Domain) error) (*Hypervisor, *Domain, time.Duration, error) {
	h, n, img, err := spinSetup()
	if h == nil {
		return nil, nil, 0, err
	}
	far := n - 1
	d, err := h.CreateDomain(Config{Name: "selftest-spin", MemoryMB: 4, Image: img, Affinity: 1 << uint(far)})
	if err != nil {
		return nil, nil, 0, err
	}
	old := h.sched.slice.Swap(int64(2 * time.Second))
	defer h.sched.slice.Store(old)
	if err := d.Unpause(); err != nil {
		h.Destroy(d)
		return nil, nil, 0, err
	}
	type result struct {
		took time.Duration
		err  error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := kernel.PinThread(0); err != nil {
			res <- result{0, err}
			return
		}
		if err := waitRunningOn(d.vcpus[0], far, 10*time.Second); err != nil {
			res <- result{0, err}
			return
		}
		t0 := time.Now()
		err := act(h, d)
		res <- result{time.Since(t0), err}
	}()
	r := <-res
	return h, d, r.took, r.err
}

// offEveryCPU checks that no CPU's loop runs one of d's vCPUs.
func offEveryCPU(h *Hypervisor, d *Domain) error {
	s := h.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cpus {
		if c.cur != nil && c.cur.dom == d {
			return fmt.Errorf("CPU %d still runs d%d's vCPU %d", c.id, d.ID, c.cur.id)
		}
	}
	for _, v := range d.vcpus {
		if v.state == vcpuRunning {
			return fmt.Errorf("d%d's vCPU %d still running", d.ID, v.id)
		}
	}
	return nil
}

const acrossLimit = 300 * time.Millisecond

func testDestroyAcrossCPUs() error {
	h, d, took, err := acrossCPUs(func(h *Hypervisor, d *Domain) error {
		if err := h.Destroy(d); err != nil {
			return err
		}
		return offEveryCPU(h, d)
	})
	if h == nil {
		return err
	}
	defer h.rcu.Barrier() // its pages are back before the next test counts them
	if err != nil {
		h.Destroy(d) // ESRCH if it was
		return err
	}
	fmt.Printf("hv: destroy of a domain running on another CPU took %v\n", took)
	if took > acrossLimit {
		return fmt.Errorf("cross-CPU destroy took %v: the running vCPU was not kicked", took)
	}
	return nil
}

func testGroupPauseAcrossCPUs() error {
	var gid domgrp.GroupID
	h, d, took, err := acrossCPUs(func(h *Hypervisor, d *Domain) error {
		var err error
		if gid, err = h.groups.Create(0); err != nil {
			return err
		}
		if err := h.withControlReader(func(r *rcu.Reader) error { return h.joinGroup(r, domgrp.DomID(d.ID), gid) }); err != nil {
			return err
		}
		return h.withControlReader(func(r *rcu.Reader) error {
			if n, err := h.groups.Pause(r, 0, gid); err != nil || n != 1 {
				return fmt.Errorf("group pause: %d paused, %v", n, err)
			}
			return offEveryCPU(h, d)
		})
	})
	if h == nil {
		return err
	}
	defer h.rcu.Barrier() // after the Destroy below: its pages are back before the next test counts them
	defer h.Destroy(d)
	if err != nil {
		return err
	}
	fmt.Printf("hv: group pause (join and pause) of a member running on another CPU took %v\n", took)
	if took > acrossLimit {
		return fmt.Errorf("cross-CPU group pause took %v: the running vCPU was not kicked", took)
	}
	return h.withControlReader(func(r *rcu.Reader) error {
		if _, err := h.groups.Unpause(r, gid); err != nil {
			return err
		}
		if err := h.joinGroup(r, domgrp.DomID(d.ID), domgrp.NullGroup); err != nil {
			return err
		}
		return h.groups.Destroy(gid)
	})
}
