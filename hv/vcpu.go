package hv

import (
	"errors"
	"sync"
	"time"

	"grove/boot/guest"
	"grove/hv/pc"
	"grove/hv/svm"
	"grove/x86"
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
	vcpuDown    // not brought up (vcpu_op), or taken down
)

// VCPU is data, not a goroutine: a scheduler loop runs it (sched.go).
type VCPU struct {
	dom  *Domain
	id   int
	vmcb svm.VMCB
	regs svm.Regs
	exit exitState // the last exit, between runSlice and its handler (outcome.go)
	// The exit fast path (fastexit.go): its loop's own, but for Stop.
	fast      svm.Fast
	fastReady bool
	mem       guestMem // the guest's memory by virtual address (v itself but in tests)

	// Guarded by the scheduler's mu.
	state     vcpuState
	wakeAt    int64       // kernel.Nanotime deadline of a sleep, 0 = none
	slept     bool        // the sleep's deadline passed; consumed when v is queued
	timerAt   int64       // set_timer_op deadline (Nanotime), 0 = off
	hostTimer *time.Timer // fires at the earlier of the two (sched.go)
	irq       irqState    // pending virtual interrupts (irq.go)
	exits     uint64      // all of them, the fast path's included
	fastExits uint64      // those the fast path took
	byKind    exitCounts  // the others by kind (exitkinds.go)
	cpu       int         // the CPU it runs or is queued on
	lastCPU   int         // the CPU it last ran on (-1: never ran)
	affinity  uint64      // CPUs it may run on, bit per CPU; 0 = any
	inited    bool        // has a start state (vCPU 0 always; others by vcpu_op)
	downReq   bool        // vcpu_op down asked while it ran: it goes down at its exit
	guestIF   bool        // RFLAGS.IF at its last exit: it can take an interrupt

	// PC-platform domains (platform_apic.go): its local APIC, which
	// replaces irq; the APIC timer deadline its host timer is armed for;
	// and the vector offered at its last entry. The last two belong to the
	// loop running it.
	lapic     *pc.LAPIC
	apicArmed int64
	offered   uint8
	// tscOffset is what its TSC writes added to the host's TSC
	// (platform_tsc.go); flushTLB asks its next entry to flush its TLB (a
	// CR4 write, platform_cr4.go). Both belong to the loop running it.
	tscOffset int64
	flushTLB  bool
	pkrs      uint64 // its IA32_PKRS (platform_pks.go); the loop running it owns it
	nmi       nmiCtl // NMI blocking (platform_nmi.go); the loop running it owns it

	// Scheduling groups (gang.go); guarded by the scheduler's mu.
	sg                  *schedGroup // its group with a policy, nil if none
	turnEpoch           int64       // the gang turn whose start it last recorded
	progress            int64       // ns run (relaxed's progress clock)
	costopAt            int64       // when its co-stop began, 0 = not stopped
	aloneNS, togetherNS uint64      // run time without / with a sibling running
	curStart            int64       // when its current guest entry began (0: not in its guest)
	segStart, segEnd    int64       // its last completed guest run
}

// allowedOn reports whether v may run on cpu.
func (v *VCPU) allowedOn(cpu int) bool {
	return v.affinity == 0 || v.affinity&(1<<uint(cpu)) != 0
}

// Segment attributes (VMCB format: descriptor bits 40-47, 52-55).
const (
	attrCode32 = 0xc9b
	attrData   = 0xc93
	attrTSS    = 0x08b
	attrLDT    = 0x082
)

// Intercept policy (svm only provides the mechanism). Intercepted:
// physical interrupts and NMIs (the host takes them), CPUID (Grove's
// leaves), HLT (the vCPU blocks), every port (the device bus) and MSR
// (exits.go) but those below, triple faults, and the SVM instructions
// (#UD: no nested virtualization), VMMCALL being the hypercall.
const (
	interceptMisc1 = svm.InterceptINTR | svm.InterceptNMI | svm.InterceptCPUID | svm.InterceptHLT |
		svm.InterceptIOIO | svm.InterceptMSR | svm.InterceptShutdown
	interceptMisc2 = svm.InterceptVMRUN | svm.InterceptVMMCALL | svm.InterceptVMLOAD |
		svm.InterceptVMSAVE | svm.InterceptSTGI | svm.InterceptCLGI | svm.InterceptSKINIT
)

// passMSRs are the MSRs a guest uses without exits: those VMLOAD and
// VMSAVE switch with the guest (APM vol. 2, 15.5.2), so the host's survive.
var passMSRs = [...]uint32{x86.MSRSTAR, x86.MSRLSTAR, x86.MSRCSTAR, x86.MSRSFMASK,
	x86.MSRFSBase, x86.MSRGSBase, x86.MSRKernelGSBase,
	x86.MSRSysenterCS, x86.MSRSysenterESP, x86.MSRSysenterEIP}

var (
	msrPolicyOnce sync.Once
	msrPolicyErr  error
)

// applyMSRPolicy opens the shared MSR permission map for passMSRs, once.
func applyMSRPolicy() error {
	msrPolicyOnce.Do(func() {
		for _, msr := range passMSRs {
			if err := svm.PassMSR(msr); err != nil {
				msrPolicyErr = err
			}
		}
	})
	return msrPolicyErr
}

// startState is where a domain's boot protocol starts its vCPUs: 32-bit
// protected mode, paging off, flat segments, EIP = entry, the boot data's
// address in one register (EBX for PVH and multiboot, ESI for Linux) and
// zero in the others, but EAX = 0x2BADB002 for multiboot.
type startState struct {
	entry, info uint32
	reg         guest.StartReg
}

// newVCPU allocates the VMCB and sets the start state. The domain's device
// bus comes with its first vCPU.
func newVCPU(d *Domain, id int, start startState) (*VCPU, error) {
	if err := applyMSRPolicy(); err != nil {
		return nil, err
	}
	if d.bus == nil {
		b, err := newDomainBus(d)
		if err != nil {
			return nil, err
		}
		d.bus = b
	}
	pa, err := allocPages(1, 1)
	if err != nil {
		return nil, err
	}
	v := &VCPU{dom: d, id: id, vmcb: svm.VMCB{PA: pa}, lastCPU: -1, inited: id == 0}
	v.mem = v
	v.regs.InitFPU()
	if start.reg == guest.StartESI {
		v.regs.RSI = uint64(start.info)
	} else {
		v.regs.RBX = uint64(start.info)
	}
	svm.InitGuest(v.vmcb, svm.GuestInit{
		ASID: d.asid, NCR3: uint64(d.ram.npt.Root), Entry: uint64(start.entry),
		CodeAttr: attrCode32, DataAttr: attrData, TSSAttr: attrTSS, LDTAttr: attrLDT, IOPM: d.iopm,
	})
	if start.reg == guest.StartMultiboot {
		v.vmcb.SetRAX(guest.MultibootBootMagic) // RAX lives in the VMCB
	}
	v.vmcb.SetIntercepts(interceptMisc1, interceptMisc2)
	return v, nil
}

func (v *VCPU) free() { freePages(v.vmcb.PA, 1) }
