package hv

import (
	"fmt"
	"sync"

	"grove/hv/abi"
	"grove/kernel"
)

// The machine's COM2 interrupt, forwarded to the control domain as
// VIRQSerial: the first binding routes ISA IRQ 3 to a kernel wait vector
// (kernel.RouteISAIRQ) and starts a goroutine that blocks in
// kernel.WaitIRQ and raises the VIRQ at each arrival. The hypervisor never
// touches the UART: the agent empties it through the ports its binding
// passed to it, which also ends the interrupt (edge-triggered, so nothing
// needs masking meanwhile).

const (
	com2IRQ     = 3                     // ISA IRQ of COM2 on every PC
	com2HostVec = kernel.WaitVectorBase // the host vector it arrives on
)

// hostIRQ reaches one machine interrupt: route it, then wait for each
// arrival. The image's is the kernel's (com2Host); host tests make one up.
type hostIRQ struct {
	route func() error
	wait  func() error
}

var com2Host = hostIRQ{
	route: func() error { return kernel.RouteISAIRQ(com2IRQ, com2HostVec) },
	wait: func() error {
		_, err := kernel.WaitIRQ(com2HostVec, 0)
		return err
	},
}

// serialIRQ is the forwarder's state: started once, its failure kept.
type serialIRQ struct {
	host hostIRQ
	once sync.Once
	err  error
}

// startSerialIRQ routes COM2's interrupt and starts the forwarder, the
// first time; later calls report how that went.
func (h *Hypervisor) startSerialIRQ() error {
	h.serial.once.Do(func() {
		if err := h.serial.host.route(); err != nil {
			h.serial.err = fmt.Errorf("routing ISA IRQ %d: %w", com2IRQ, err)
			return
		}
		go h.forwardSerial()
	})
	return h.serial.err
}

// forwardSerial raises VIRQSerial for every arrival, for as long as the
// kernel lets it wait.
func (h *Hypervisor) forwardSerial() {
	for {
		if err := h.serial.host.wait(); err != nil {
			fmt.Printf("grove: COM2 interrupt: %v; the control domain must poll\n", err)
			return
		}
		h.sched.mu.Lock()
		h.raiseVIRQLocked(abi.VIRQSerial)
		h.sched.mu.Unlock()
	}
}
