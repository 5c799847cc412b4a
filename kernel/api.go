package kernel

import (
	"syscall"
	"time"

	"github.com/usbarmory/tamago/soc/intel/rtc"

	"grove/x86"
)

// The API ordinary Go code uses: every function here runs in goroutines,
// never in kernel context, and reaches kernel state through Grove's system
// calls (whose kernel-context handlers live beside the state they touch) or
// reads data that is immutable after boot. The page allocator's API is in
// pages.go, the clock's in time.go, long calls in longcall.go.

// Shutdown powers off: status 0 is success (QEMU exits 33), anything else
// failure (35).
func Shutdown(status int) {
	syscall.RawSyscall(SysGroveShutdown, uintptr(status), 0, 0)
}

// CrashKernel makes kernel code dereference nil, to exercise the kernel-fault
// report (crash=kernel on the command line).
func CrashKernel() { syscall.RawSyscall(SysGroveCrash, 0, 0, 0) }

// DoubleFault makes the kernel take a double fault (crash=double).
func DoubleFault() { syscall.RawSyscall(SysGroveCrashDF, 0, 0, 0) }

// Clock reports the calibrated rates.
func Clock() (tsc, lapicTimer uint64) { return tscHz, lapicHz }

// Features describes the CPU as CPUID reports it.
type Features struct {
	Vendor       string
	Brand        string
	SVM, NPT     bool
	ASIDs        uint32
	NRIPS, VGIF  bool
	RDRAND, AVX  bool
	DecodeAssist bool
}

// CPUFeatures reads CPUID (the leaves and bits are package x86's).
func CPUFeatures() Features {
	var f Features
	_, b, c, d := cpuid(0, 0)
	f.Vendor = string(regBytes(b, d, c))
	_, _, c1, _ := cpuid(1, 0)
	f.RDRAND, f.AVX = c1&x86.CPUIDStd1ECXRDRAND != 0, c1&x86.CPUIDStd1ECXAVX != 0
	maxExt, _, _, _ := cpuid(x86.CPUIDLeafExtMax, 0)
	if maxExt >= 0x80000004 {
		var brand []byte
		for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
			a, b, c, d := cpuid(leaf, 0)
			brand = append(brand, regBytes(a, b, c, d)...)
		}
		f.Brand = trimNul(brand)
	}
	_, _, ce, _ := cpuid(x86.CPUIDLeafExt1, 0)
	f.SVM = ce&x86.CPUIDExt1ECXSVM != 0
	if f.SVM && maxExt >= x86.CPUIDLeafSVM {
		_, asids, _, d := cpuid(x86.CPUIDLeafSVM, 0)
		f.ASIDs, f.NPT, f.NRIPS = asids, d&x86.CPUIDSVMEDXNP != 0, d&x86.CPUIDSVMEDXNRIPS != 0
		f.DecodeAssist, f.VGIF = d&x86.CPUIDSVMEDXDecodeAssists != 0, d&x86.CPUIDSVMEDXVGIF != 0
	}
	return f
}

func regBytes(regs ...uint32) []byte {
	var out []byte
	for _, r := range regs {
		out = append(out, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	return out
}

func trimNul(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return string(b)
}

func init() {
	// The boot path (entry64 -> bootMain -> ...) is reached only from the
	// trampoline; this reference keeps the linker from dropping it.
	bootAddrs()
	if OnGrove() && !isGuest { // a guest has no CMOS clock of its own
		setRealtime()
	}
}

// OnGrove reports whether this program booted as Grove (rather than running
// as an ordinary process, as in host tests).
func OnGrove() bool { return booted }

// setRealtime sets the wall clock from the CMOS RTC (tamago's driver), which
// refuses to read during an update; try for a little over a second.
func setRealtime() {
	r := rtc.RTC{Location: time.UTC}
	for i := 0; i < 120; i++ {
		if t, err := r.Now(); err == nil {
			realtime0.Store(t.UnixNano() - nanotime())
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func rawSyscall(nr, a1, a2, a3 uintptr) (uintptr, uintptr, syscall.Errno) {
	return syscall.RawSyscall(nr, a1, a2, a3)
}

// CPUID executes CPUID on this CPU.
func CPUID(leaf, sub uint32) (eax, ebx, ecx, edx uint32) { return cpuid(leaf, sub) }

// ModuleBytes returns a boot module's contents (read-only: it is the
// loader's copy in reserved physical memory).
func ModuleBytes(m Module) []byte {
	return bytesAt(uintptr(m.Base), uintptr(m.Len))
}

// PortIn8 and PortOut8 access an I/O port (ring 0, any context). The
// hypervisor uses them to give the control domain the second serial port.
func PortIn8(port uint16) uint8     { return inb(port) }
func PortOut8(port uint16, v uint8) { outb(port, v) }

// PortIn32 and PortOut32 are the 32-bit accesses, for PCI configuration
// space (0xcf8/0xcfc), where the hypervisor finds the host channel's
// shared memory.
func PortIn32(port uint16) uint32     { return inl(port) }
func PortOut32(port uint16, v uint32) { outl(port, v) }

// ReadMSR and WriteMSR access a model-specific register of this CPU.
func ReadMSR(msr uint32) uint64     { return rdmsr(msr) }
func WriteMSR(msr uint32, v uint64) { wrmsr(msr, v) }
