package hv

import (
	"fmt"
	"io"
	"time"
)

// ExitBench measures guest exit round trips (`-append bench=exits`, make
// bench): the built-in bench guest (guests/asm Bench: rounds of null
// hypercalls and of CPUID exits, each timed by the guest with RDTSC and
// printed as "(dN) cpuid-exit hi/lo ...") runs under each exit path in
// turn -- the floor (svm.RunFloor: the cheapest handling there is), Grove's
// (the fast path, Go for the rest), and Go alone -- rounds times,
// interleaved so that the three see the same machine. Before each run it
// prints "bench: exits dN path=P", after it "bench: exits dN path=P
// exits=E fast=F" (all exits, and those the fast path took).
func (h *Hypervisor) ExitBench(w io.Writer, rounds int) error {
	img, err := guestImage("bench")
	if err != nil {
		return err
	}
	for i := 0; i < rounds; i++ {
		for _, p := range []exitPath{pathFloor, pathFast, pathGo} {
			if err := h.benchRun(w, img, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchRun runs image img as a new domain under exit path p until it shuts
// down, then destroys it.
func (h *Hypervisor) benchRun(w io.Writer, img []byte, p exitPath) error {
	d, err := h.runUnder(img, p, "bench-"+p.String(), func(d *Domain) {
		fmt.Fprintf(w, "bench: exits d%d path=%s\n", d.ID, p)
	})
	if err != nil {
		return err
	}
	all, fast := d.exitCounts()
	fmt.Fprintf(w, "bench: exits d%d path=%s exits=%d fast=%d\n", d.ID, p, all, fast)
	return h.Destroy(d)
}

// runUnder creates a 4 MiB domain from img with exit path p, calls started
// once it exists, and runs it until it shuts down (it is not destroyed).
func (h *Hypervisor) runUnder(img []byte, p exitPath, name string, started func(*Domain)) (*Domain, error) {
	d, err := h.CreateDomain(Config{Name: name, MemoryMB: 4, Image: img})
	if err != nil {
		return nil, err
	}
	d.path = p // before its first entry: the loops read it after Unpause's lock
	started(d)
	if err := d.Unpause(); err != nil {
		h.Destroy(d)
		return nil, err
	}
	if err := waitState(d, "shutdown", 10*time.Minute); err != nil {
		h.Destroy(d)
		return nil, err
	}
	return d, nil
}

// exitCounts returns d's exits so far, and how many the fast path took.
func (d *Domain) exitCounts() (all, fast uint64) {
	s := d.hv.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range d.vcpus {
		all += v.exits
		fast += v.fastExits
	}
	return all, fast
}
