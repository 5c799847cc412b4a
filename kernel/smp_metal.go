//go:build !groveguest

package kernel

import (
	"sync/atomic"

	"github.com/usbarmory/tamago/amd64/lapic"
)

// Starting the application processors (AMD APM vol. 2, 15.27.8; Intel SDM
// vol. 3, 9.4.4): for each enabled local APIC the firmware's MADT lists
// (acpiCPUs), the boot CPU prepares the AP's stacks, idle task and the
// trampoline's data words, sends INIT, then STARTUP (twice, as the MP spec
// asks), and waits for the AP to say it runs. An AP that stays silent past
// apStartTimeout is reported, sent INIT again (so that it cannot wake up
// later on stale data) and skipped. Everything here runs on the boot path:
// before the Go runtime, with the BKL held, no allocation.

const (
	// ICR fields (Intel SDM vol. 3, 11.6.1), as tamago's lapic names them.
	icrInit     = lapic.ICR_DLV_INIT | 1<<lapic.ICR_INIT // INIT, level assert
	icrStartup  = lapic.ICR_DLV_SIPI | 1<<lapic.ICR_INIT
	icrPending  = 1 << lapic.ICR_DLV_STATUS
	lapicRegID  = lapic.LAPIC_ID
	lapicRegSVR = lapic.LAPIC_SVR
)

// hwSendIPI sends a fixed interrupt to the CPU with apicID. It writes the
// ICR itself rather than through tamago's LAPIC.IPI, whose wait for the
// delivery status yields to the Go scheduler: kernel context has none.
// Kernel context.
func hwSendIPI(apicID uint32, vector uint8) {
	hwICR(apicID, uint32(vector))
}

// Kernel context.
func hwICR(apicID, low uint32) {
	lapicWrite(lapic.LAPIC_ICRH, apicID<<24)
	lapicWrite(lapic.LAPIC_ICRL, low)
	for lapicRead(lapic.LAPIC_ICRL)&icrPending != 0 {
		pause()
	}
}

// Boot path.
func hwAPICID() uint32 { return lapicRead(lapicRegID) >> 24 }

// startAPs starts the CPUs the firmware lists, at most limit in all (0 = no
// limit), and prints what came up.
// Boot path.
func startAPs(limit int) {
	bsp := hwAPICID()
	cpus[0].apicID = bsp
	ids, n := acpiCPUs()
	page := bytesAt(apTrampolinePA, pageSize)
	apTrampoline(page, uint32(readCR3()), uint64(apEntryAddr()))
	if readCR3() >= 1<<32 {
		kprint("cpu: page tables above 4 GiB, running on the boot CPU only\n")
		n = 0
	}
	for _, id := range ids[:n] {
		if id == bsp {
			continue
		}
		if limit > 0 && onlineCPUs >= limit || onlineCPUs == maxCPUs {
			break
		}
		if startAP(page, onlineCPUs, id) {
			onlineCPUs++
		}
	}
	printOnline("apic ids")
	for i := 1; i < onlineCPUs; i++ {
		if s := cpus[i].tscSkew; s > tscSkewTolerance || s < -tscSkewTolerance {
			kprint("clock: cpu ")
			kprintDec(uint64(i))
			kprint(" TSC is off by ")
			kprintDec(uint64(max(s, -s)))
			if tscOffset[i] != 0 {
				kprint(" cycles, corrected\n")
			} else {
				kprint(" cycles and the CPU has no RDTSCP: time may step between CPUs\n")
			}
		}
	}
}

// startAP brings up one AP as cpus[idx] and reports whether it came.
// Boot path.
func startAP(page []byte, idx int, apicID uint32) bool {
	c := &cpus[idx]
	stackTop, fsBase, ok := prepareAP(idx, apicID)
	if !ok {
		return false
	}
	apTrampolineAP(page, idx, stackTop, fsBase)
	hwICR(apicID, icrInit)
	spinFor(10_000_000)
	for try := 0; try < 2 && !c.started.Load(); try++ {
		hwICR(apicID, icrStartup|apSIPIVector)
		spinFor(200_000)
	}
	for end := nanotime() + apStartTimeout; !c.started.Load() && nanotime() < end; {
		tscServe()
	}
	if !c.started.Load() {
		hwICR(apicID, icrInit) // park it: it must not run the trampoline later
		kprint("cpu: apic id ")
		kprintDec(uint64(apicID))
		kprint(" did not start within 3s, skipped\n")
		return false
	}
	return true
}

// apPlatformInit is apMain's bare-metal part: measure this AP's TSC against
// the boot CPU's (the boot CPU answers from startAP's wait loop) and enable
// its local APIC with a one-shot timer.
// Boot path.
func apPlatformInit(c *percpu) {
	tscAlign(c)
	lapicWrite(lapicRegSVR, 0x100|vecSpurious) // enabled, spurious vector
	lapicWrite(lapicTimerDivide, lapicDivideBy1)
	apic.SetTimer(vecTimer, 0) // one-shot
}

// spinFor busy-waits ns nanoseconds (boot path: no timer interrupts yet),
// publishing the TSC for an AP that may be starting.
// Boot path.
func spinFor(ns int64) {
	for end := nanotime() + ns; nanotime() < end; {
		tscServe()
	}
}

// TSC check: the AP asks (tscReq = k), the boot CPU answers with its TSC
// (tscBSP, then tscAck = k), and the AP takes the midpoint of its own reads
// around the exchange as the same instant (NTP's reasoning): the error is at
// most half the round trip, and the best of tscRounds rounds is kept.
var tscReq, tscAck, tscBSP atomic.Uint64

const tscRounds = 64

// tscServe answers a pending request. Boot CPU, while an AP starts.
// Boot path.
func tscServe() {
	if k := tscReq.Load(); k != tscAck.Load() {
		tscBSP.Store(rdtsc())
		tscAck.Store(k)
	}
	pause()
}

// tscAlign measures how far this AP's TSC is from the boot CPU's, so that
// nanotime is one clock on every CPU (readTSC in time.go applies it).
// Boot path.
func tscAlign(c *percpu) {
	best, skew := int64(-1), int64(0)
	for k := uint64(1); k <= tscRounds; k++ {
		t1 := rdtsc()
		tscReq.Store(k)
		for tscAck.Load() != k {
			pause()
		}
		t2 := rdtsc()
		if rtt := int64(t2 - t1); best < 0 || rtt < best {
			best, skew = rtt, int64(t1+(t2-t1)/2-tscBSP.Load())
		}
	}
	c.tscSkew = skew
	if hasRDTSCP && (skew > tscSkewTolerance || skew < -tscSkewTolerance) {
		tscOffset[c.id] = skew
		tscUseOffsets = true
	}
}

const tscSkewTolerance = 2_000 // cycles; below this a correction is noise
