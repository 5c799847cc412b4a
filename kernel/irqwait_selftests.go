package kernel

import (
	"fmt"
	"time"

	"grove/kernel/selftest"
)

// In-image tests of WaitIRQ, with raiseIRQ (an IPI carrying a wait vector)
// standing in for a device.

func init() {
	for _, t := range []selftest.Test{
		{Name: "kernel/irq-wait-counts", Run: testIRQCounts},
		{Name: "kernel/irq-wait-deadline", Run: testIRQDeadline},
		{Name: "kernel/irq-wait-wakes", Run: testIRQWakes},
	} {
		selftest.Register(t)
	}
}

// Arrivals before a wait are counted, not lost, and a wait takes them all.
func testIRQCounts() error {
	const vec = WaitVectorBase + 1
	return onCPU(0, func() error {
		WaitIRQ(vec, 1) // clear what earlier tests left
		for i := 0; i < 3; i++ {
			// To this CPU, taken once interrupts are on again; the pause
			// keeps a second IPI from merging with a first one still
			// pending in the local APIC.
			if err := raiseIRQ(0, vec); err != nil {
				return err
			}
			time.Sleep(5 * time.Millisecond)
		}
		if n, err := WaitIRQ(vec, Nanotime()+int64(time.Second)); n != 3 || err != nil {
			return fmt.Errorf("after 3 arrivals WaitIRQ gave %d, %v", n, err)
		}
		if n, _ := WaitIRQ(vec, 1); n != 0 {
			return fmt.Errorf("a second wait found %d arrivals", n)
		}
		if _, err := WaitIRQ(0x20, 1); err == nil {
			return fmt.Errorf("vector 0x20 accepted")
		}
		return nil
	})
}

// With nothing arriving, the deadline ends the wait with 0.
func testIRQDeadline() error {
	const vec, wait = WaitVectorBase + 2, 30 * time.Millisecond
	t0 := time.Now()
	n, err := WaitIRQ(vec, Nanotime()+int64(wait))
	if d := time.Since(t0); n != 0 || err != nil || d < wait {
		return fmt.Errorf("WaitIRQ gave %d, %v after %v (deadline %v)", n, err, d, wait)
	}
	return nil
}

// A thread blocked on one CPU wakes for an arrival on any CPU, including
// one pinned where the interrupt does not arrive.
func testIRQWakes() error {
	const vec = WaitVectorBase + 3
	last := OnlineCPUs() - 1
	for _, tc := range []struct{ waiter, raiser int }{{0, 0}, {last, 0}, {0, last}} {
		got := make(chan error, 1)
		go func() {
			got <- onCPU(tc.waiter, func() error {
				n, err := WaitIRQ(vec, Nanotime()+int64(5*time.Second))
				if n == 0 || err != nil {
					return fmt.Errorf("WaitIRQ gave %d, %v", n, err)
				}
				return nil
			})
		}()
		time.Sleep(20 * time.Millisecond) // let it block (an early arrival is counted anyway)
		if err := raiseIRQ(tc.raiser, vec); err != nil {
			return err
		}
		if err := <-got; err != nil {
			return fmt.Errorf("waiter on cpu %d, interrupt on cpu %d: %w", tc.waiter, tc.raiser, err)
		}
	}
	return nil
}
