package hv

import (
	"errors"
	"time"

	"grove/hv/svm"
)

var errFault = errors.New("bad guest address")

// vcpuState is where a vCPU is in its life.
type vcpuState int

const (
	vcpuRunnable vcpuState = iota
	vcpuRunning
	vcpuBlocked // waiting for its timer or an event
	vcpuPaused  // its domain is paused
	vcpuDead    // domain crashed, shut down or destroyed
)

// VCPU is data, not a goroutine: a scheduler loop runs it (sched.go).
type VCPU struct {
	dom  *Domain
	id   int
	vmcb svm.VMCB
	regs svm.Regs

	// Guarded by the scheduler's mu.
	state     vcpuState
	wakeAt    int64       // kernel.Nanotime deadline of a sleep, 0 = none
	slept     bool        // the sleep's deadline passed; consumed when v is queued
	timerAt   int64       // set_timer_op deadline (Nanotime), 0 = off
	hostTimer *time.Timer // fires at the earlier of the two (sched.go)
	// Timer interrupts: raised by the timer, injected by prepare, and
	// delivered once the guest took the injected one. Counting instead of a
	// flag means a timer that fires while the guest runs is never lost.
	irqRaised, irqInjected, irqDelivered uint64
	exits                                uint64
}

// Segment attributes (VMCB format: descriptor bits 40-47, 52-55).
const (
	attrCode32 = 0xc9b
	attrData   = 0xc93
	attrTSS    = 0x08b
	attrLDT    = 0x082
)

// newVCPU allocates the VMCB and sets the PVH start state: 32-bit protected
// mode, paging off, flat segments, EIP = entry, EBX = start info.
func newVCPU(d *Domain, id int, entry, ebx uint32) (*VCPU, error) {
	pa, err := allocPages(1, 1)
	if err != nil {
		return nil, err
	}
	v := &VCPU{dom: d, id: id, vmcb: svm.VMCB{PA: pa}}
	v.regs.InitFPU()
	v.regs.RBX = uint64(ebx)
	svm.InitGuest(v.vmcb, svm.GuestInit{
		ASID: d.asid, NCR3: uint64(d.ram.npt.Root), Entry: uint64(entry),
		CodeAttr: attrCode32, DataAttr: attrData, TSSAttr: attrTSS, LDTAttr: attrLDT,
	})
	return v, nil
}

func (v *VCPU) free() { freePages(v.vmcb.PA, 1) }

// irqPendingLocked reports an interrupt not yet taken. Caller holds the
// scheduler's mu.
func (v *VCPU) irqPendingLocked() bool { return v.irqRaised != v.irqDelivered }

// advance moves RIP past an intercepted instruction of n bytes (no NRIPS
// under TCG: the length is known per exit kind).
func (v *VCPU) advance(n uint64) { v.vmcb.SetRIP(v.vmcb.RIP() + n) }
