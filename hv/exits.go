package hv

import (
	"fmt"

	"grove/hv/abi"
	"grove/hv/svm"
	"grove/kernel"
)

// Exit handling: a table from exit code to handler. A handler decides what
// happens to the vCPU by returning an outcome; it never touches the
// scheduler directly. Unknown exits crash the domain with the code named.

type outcome int

const (
	resume   outcome = iota // run the vCPU again
	yield                   // requeue behind others
	blockIt                 // wait for the timer or wakeAt
	crashIt                 // the domain crashed (reason set)
	shutdown                // the domain shut down (reason set)
)

// exitHandlers is indexed by exit code (all handled codes but NPF are
// below 0x100; see exitHandler).
var exitHandlers = [0x100]func(*VCPU) (outcome, string){
	svm.ExitCPUID:    exitCPUID,
	svm.ExitIOIO:     exitIOIO,
	svm.ExitMSR:      exitMSR,
	svm.ExitHLT:      exitHLT,
	svm.ExitVMMCALL:  exitVMMCALL,
	svm.ExitShutdown: exitShutdown,
	svm.ExitINTR:     func(*VCPU) (outcome, string) { return yield, "" },
	svm.ExitNMI:      func(*VCPU) (outcome, string) { return yield, "" },
	svm.ExitVINTR:    func(*VCPU) (outcome, string) { return resume, "" },
	svm.ExitVMRUN:    injectUD,
	svm.ExitVMLOAD:   injectUD,
	svm.ExitVMSAVE:   injectUD,
	svm.ExitSTGI:     injectUD,
	svm.ExitCLGI:     injectUD,
	svm.ExitSKINIT:   injectUD,
}

func exitHandler(code uint64) func(*VCPU) (outcome, string) {
	switch {
	case code == svm.ExitNPF:
		return exitNPF
	case code < uint64(len(exitHandlers)):
		return exitHandlers[code]
	}
	return nil
}

var exitNames = map[uint64]string{
	svm.ExitInvalid: "invalid guest state (VMEXIT_INVALID)",
}

// handleExit decides what to do after the vCPU's #VMEXIT. A bug in a
// handler (a panic) crashes that domain, never the hypervisor.
func handleExit(v *VCPU, code uint64) (out outcome, why string) {
	defer func() {
		if r := recover(); r != nil {
			out, why = crashIt, fmt.Sprintf("hypervisor error handling exit %#x at rip=%#x: %v", code, v.vmcb.RIP(), r)
		}
	}()
	return dispatchExit(v, code)
}

func dispatchExit(v *VCPU, code uint64) (outcome, string) {
	if h := exitHandler(code); h != nil {
		return h(v)
	}
	if n, ok := exitNames[code]; ok {
		return crashIt, fmt.Sprintf("%s at rip=%#x", n, v.vmcb.RIP())
	}
	return crashIt, fmt.Sprintf("unhandled exit %#x at rip=%#x", code, v.vmcb.RIP())
}

func exitCPUID(v *VCPU) (outcome, string) {
	leaf, sub := uint32(v.vmcb.RAX()), uint32(v.regs.RCX)
	a, b, c, d := guestCPUID(leaf, sub)
	v.vmcb.SetRAX(uint64(a))
	v.regs.RBX, v.regs.RCX, v.regs.RDX = uint64(b), uint64(c), uint64(d)
	v.advance(2)
	return resume, ""
}

// guestCPUID is the host's CPUID with SVM hidden, the hypervisor-present bit
// set, and Grove's leaves at 0x40000000.
func guestCPUID(leaf, sub uint32) (a, b, c, d uint32) {
	le := func(s string) uint32 { return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24 }
	switch {
	case leaf == abi.CPUIDSignature:
		return abi.CPUIDTiming, le(abi.Signature[0:]), le(abi.Signature[4:]), le(abi.Signature[8:])
	case leaf == abi.CPUIDTiming:
		return uint32(kernel.TSCHz() / 1000), 0, 0, 0
	case leaf > abi.CPUIDSignature && leaf < 0x40010000:
		return 0, 0, 0, 0
	case leaf == 0x8000000a: // SVM features
		return 0, 0, 0, 0
	}
	a, b, c, d = kernel.CPUID(leaf, sub)
	switch leaf {
	case 1:
		c |= 1 << 31       // hypervisor present
		c &^= 1<<5 | 1<<27 // no VMX; no OSXSAVE until the guest sets it
	case 0x80000001:
		c &^= 1 << 2 // no SVM
	}
	return
}

// IOIO EXITINFO1 (APM 15.10.2): bit 0 = IN, 2 = string, 3 = REP,
// 4..6 = operand size, 16..31 = port. EXITINFO2 is the next RIP.
func exitIOIO(v *VCPU) (outcome, string) {
	info := v.vmcb.ExitInfo1()
	in, str := info&1 != 0, info&4 != 0
	port := uint16(info >> 16)
	size := 1
	if info&(1<<5) != 0 {
		size = 2
	} else if info&(1<<6) != 0 {
		size = 4
	}
	if str {
		return crashIt, fmt.Sprintf("string I/O on port %#x at rip=%#x is not supported", port, v.vmcb.RIP())
	}
	if in {
		val := v.dom.portIn(port, size)
		mask := uint64(1)<<(8*size) - 1
		v.vmcb.SetRAX(v.vmcb.RAX()&^mask | uint64(val)&mask)
	} else {
		v.dom.portOut(port, size, uint32(v.vmcb.RAX()))
	}
	v.vmcb.SetRIP(v.vmcb.ExitInfo2())
	return resume, ""
}

// portIn and portOut are the domain's port handlers: 0xe9 is the debug
// console; the control domain owns the machine's second serial port (COM2,
// the host tool's channel: its registers pass straight through); other
// ports read as all ones and ignore writes.
func (d *Domain) portIn(port uint16, size int) uint32 {
	switch {
	case port == abi.DebugPort:
		return abi.DebugPort
	case d.Privileged && size == 1 && port >= com2 && port < com2+8:
		return uint32(kernel.PortIn8(port))
	}
	return 0xffffffff
}

func (d *Domain) portOut(port uint16, size int, val uint32) {
	switch {
	case port == abi.DebugPort:
		d.consoleBytes([]byte{byte(val)})
	case d.Privileged && size == 1 && port >= com2 && port < com2+8:
		kernel.PortOut8(port, uint8(val))
	}
}

const com2 = 0x2f8

const (
	msrEFER     = 0xc0000080
	msrAPICBase = 0x1b
	msrPAT      = 0x277
)

// exitMSR: EFER keeps SVME hidden from the guest; a few harmless MSRs read
// as zero; anything else raises #GP in the guest, as on hardware.
func exitMSR(v *VCPU) (outcome, string) {
	write, msr := v.vmcb.ExitInfo1() == 1, uint32(v.regs.RCX)
	val := v.regs.RDX<<32 | v.vmcb.RAX()&0xffffffff
	switch {
	case msr == msrEFER && write:
		v.vmcb.SetEFER(val)
	case msr == msrEFER:
		val = v.vmcb.EFER() &^ (1 << 12)
	case msr == msrPAT || (msr >= 0x200 && msr < 0x300): // PAT and MTRRs: accept, read 0
		if write {
			break
		}
		val = 0
	default:
		return injectGP(v)
	}
	if !write {
		v.vmcb.SetRAX(val & 0xffffffff)
		v.regs.RDX = val >> 32
	}
	v.advance(2)
	return resume, ""
}

func exitHLT(v *VCPU) (outcome, string) {
	v.advance(1)
	return blockIt, "" // finish keeps it runnable if an interrupt is pending
}

func exitVMMCALL(v *VCPU) (outcome, string) {
	v.advance(3) // before the call: shutdown and yield keep a consistent RIP
	return hypercall(v)
}

// NPF EXITINFO1 is the error code, EXITINFO2 the guest-physical address.
func exitNPF(v *VCPU) (outcome, string) {
	return crashIt, fmt.Sprintf("nested page fault at gpa=%#x (error %#x) rip=%#x",
		v.vmcb.ExitInfo2(), v.vmcb.ExitInfo1(), v.vmcb.RIP())
}

func exitShutdown(v *VCPU) (outcome, string) {
	return crashIt, fmt.Sprintf("triple fault at rip=%#x", v.vmcb.RIP())
}

// Event injection (APM 15.20): vector, type 3 = exception, bit 11 = error
// code valid, bit 31 = valid.
func inject(v *VCPU, vector uint8, errCode *uint32) {
	e := uint64(vector) | 3<<8 | 1<<31
	if errCode != nil {
		e |= 1<<11 | uint64(*errCode)<<32
	}
	v.vmcb.SetEventInj(e)
}

func injectUD(v *VCPU) (outcome, string) {
	inject(v, 6, nil)
	return resume, ""
}

func injectGP(v *VCPU) (outcome, string) {
	var zero uint32
	inject(v, 13, &zero)
	return resume, ""
}
