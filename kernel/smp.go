package kernel

// Secondary CPUs, the part both platforms share. The boot CPU prepares each
// one (prepareAP: stacks, idle task, TLS) and starts it its platform's way:
// INIT and STARTUP IPIs through the real-mode trampoline on bare metal
// (smp_metal.go), vcpu_op in a guest of Grove (smp_guest.go). Both land in
// apEntry64 (smp_amd64.s) and apMain. Everything here runs on the boot path
// (before the Go runtime, the boot CPU holding the BKL, no allocation) or on
// the new CPU before it has a task.

// apStartTimeout bounds the wait for a CPU to reach apMain; QEMU's APs and
// Grove's vCPUs answer in microseconds, but a QEMU vCPU thread on a
// crowded host has missed a whole second (TestGangPair at load 25).
const apStartTimeout = 3_000_000_000 // ns

// apTLS and apG give each AP's boot path a TLS word and a zeroed g (like
// bootTLS and bootG for the boot CPU); the AP's idle task keeps the FS base.
var (
	apTLS [maxCPUs][2]uintptr
	apG   [maxCPUs][32]uintptr
)

// Defined in smp_amd64.s.
func apEntryAddr() uintptr

// prepareAP makes cpus[idx] ready to start as the CPU the platform calls
// apicID: its IST stacks, its TLS word and its idle task. It returns the
// stack top and FS base apEntry64 expects in RSP and RSI.
// Boot path.
func prepareAP(idx int, apicID uint32) (stackTop, fsBase uintptr, ok bool) {
	c := &cpus[idx]
	stacks, err := kmem.allocRun((dfStackSize+kstackSize)/pageSize, 1)
	if err != nil {
		kprint("cpu: no memory for another CPU's stacks\n")
		return 0, 0, false
	}
	c.id, c.apicID, c.stacks = idx, apicID, stacks
	apTLS[idx][0] = uintptrOf(&apG[idx])
	fsBase = uintptrOf(&apTLS[idx][1])
	if !newIdleTask(c, fsBase) {
		return 0, 0, false
	}
	return stacks + dfStackSize + kstackSize, fsBase, true
}

// apMain is the AP's first Go code (from apEntry64): it sets up this CPU
// like bootMain did the boot CPU's, lets the platform set up its timer and
// clock (apPlatformInit), says it runs, and idles until the scheduler gives
// it work. It waits for the BKL the boot CPU holds until the runtime starts,
// so nothing runs here before everything is ready.
// Boot path.
func apMain(idx uint64) {
	c := &cpus[idx]
	c.id = int(idx)
	cpuInit(c, int(idx), c.stacks)
	idtLoad()
	syscallInit()
	apPlatformInit(c)
	it := &tasks[c.idle]
	c.cur, c.curFPU, c.hwFS = c.idle, it.fpuAddr(), it.fsBase
	it.state = taskRunning
	c.started.Store(true)
	enterUser(uintptr(it.regs.RSP), idleLoopAddr())
}

// printOnline prints the boot log's CPU line, naming each CPU by its
// platform id ("apic ids" on metal, "vcpus" in a guest).
// Boot path.
func printOnline(idName string) {
	kprint("cpu: ")
	kprintDec(uint64(onlineCPUs))
	kprint(" online (")
	kprint(idName)
	for i := 0; i < onlineCPUs; i++ {
		kprint(" ")
		kprintDec(uint64(cpus[i].apicID))
	}
	kprint(")\n")
}
