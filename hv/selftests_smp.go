package hv

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"grove/kernel"
	"grove/kernel/selftest"
)

// In-image tests of the hypervisor on several CPUs. On one CPU they pass
// without checking anything that needs two.

func init() {
	selftest.Register(selftest.Test{Name: "hv/pause-across-cpus", Run: testPauseAcrossCPUs, Timeout: 2 * time.Minute})
	selftest.Register(selftest.Test{Name: "hv/loops-on-every-cpu", Run: testLoopsEveryCPU, Timeout: time.Minute})
	selftest.Register(selftest.Test{Name: "hv/destroy-across-cpus", Run: testDestroyAcrossCPUs, Timeout: time.Minute})
	selftest.Register(selftest.Test{Name: "hv/group-pause-across-cpus", Run: testGroupPauseAcrossCPUs, Timeout: time.Minute})
}

// testPauseAcrossCPUs pauses a spinning guest that runs on the last CPU from
// a thread on CPU 0, and from a thread on its own CPU (where the guest then
// cannot be running), and times Pause. The slice is made 2 s long for the
// test, so a pause that waited for the slice to end instead of kicking the
// CPU would take about a second: the cross-CPU median must stay far below.
func testPauseAcrossCPUs() error {
	h, n, img, err := spinSetup()
	if h == nil {
		return err
	}
	far := n - 1
	d, err := h.CreateDomain(Config{Name: "selftest-spin", MemoryMB: 4, Image: img, Affinity: 1 << uint(far)})
	if err != nil {
		return err
	}
	defer h.Destroy(d)
	old := h.sched.slice.Swap(int64(2 * time.Second))
	defer h.sched.slice.Store(old)
	if err := d.Unpause(); err != nil {
		return err
	}
	cross, err := timePauses(d, 0, far)
	if err != nil {
		return err
	}
	same, err := timePauses(d, far, far)
	if err != nil {
		return err
	}
	fmt.Printf("hv: pause of a vCPU running on another CPU: median %v (same CPU: %v)\n", cross, same)
	if cross > 300*time.Millisecond {
		return fmt.Errorf("cross-CPU pause took %v (median): the running vCPU was not kicked", cross)
	}
	return nil
}

// timePauses pauses and unpauses d ten times from a thread pinned to from,
// each time once d's vCPU runs on cpu, and returns the median pause time.
func timePauses(d *Domain, from, cpu int) (time.Duration, error) {
	res := make(chan error, 1)
	var times []time.Duration
	go func() {
		runtime.LockOSThread()
		if err := kernel.PinThread(from); err != nil {
			res <- err
			return
		}
		for i := 0; i < 10; i++ {
			if from != cpu {
				if err := waitRunningOn(d.vcpus[0], cpu, 10*time.Second); err != nil {
					res <- err
					return
				}
			}
			t0 := time.Now()
			if err := d.Pause(); err != nil {
				res <- err
				return
			}
			times = append(times, time.Since(t0))
			if err := d.Unpause(); err != nil {
				res <- err
				return
			}
		}
		res <- nil
	}()
	if err := <-res; err != nil {
		return 0, err
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

func waitRunningOn(v *VCPU, cpu int, limit time.Duration) error {
	s := v.dom.hv.sched
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		ok := v.state == vcpuRunning && v.cpu == cpu
		s.mu.Unlock()
		if ok {
			return nil
		}
	}
	return fmt.Errorf("vCPU never ran on CPU %d within %v", cpu, limit)
}

// testLoopsEveryCPU runs as many spinning guests as CPUs, unpinned, and
// checks that every CPU's loop runs one of them at the same time.
func testLoopsEveryCPU() error {
	h, err := selftestHV()
	if err != nil {
		return err
	}
	img, err := guestImage("spin")
	if err != nil {
		return err
	}
	n := kernel.OnlineCPUs()
	for i := 0; i < n; i++ {
		d, err := h.CreateDomain(Config{Name: fmt.Sprintf("selftest-spin%d", i), MemoryMB: 4, Image: img})
		if err != nil {
			return err
		}
		defer h.Destroy(d)
		if err := d.Unpause(); err != nil {
			return err
		}
	}
	s := h.sched
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		busy := 0
		for _, c := range s.cpus {
			if c.cur != nil {
				busy++
			}
		}
		s.mu.Unlock()
		if busy == n {
			return nil
		}
	}
	return fmt.Errorf("never saw all %d CPUs running a vCPU at once", n)
}

// spinSetup is the start of the self-tests that run spinning guests on
// several CPUs: the hypervisor, the CPU count and the spin guest's image.
// A nil hypervisor means stop: with err, or nil on a single CPU, where
// these tests have nothing to check.
func spinSetup() (*Hypervisor, int, []byte, error) {
	h, err := selftestHV()
	if err != nil {
		return nil, 0, nil, err
	}
	n := kernel.OnlineCPUs()
	if n < 2 {
		return nil, n, nil, nil
	}
	img, err := guestImage("spin")
	if err != nil {
		return nil, n, nil, err
	}
	return h, n, img, nil
}
