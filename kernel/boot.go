package kernel

import (
	"grove/x86"
	"grove/x86/paging"
)

// Boot: entry64 (boot_amd64.s) calls bootMain on a static stack with the
// boot loader's magic and info pointer. bootMain builds the machine Go needs
// and starts the unmodified runtime at _rt0_amd64_linux with a Linux-style
// initial stack. It runs before the runtime: no allocation, no goroutines.

const (
	mainStackSize = 256 << 10
	lowReserved   = 1 << 20 // real-mode area, BIOS, option ROMs
)

var (
	bootStack      [65536]byte
	bootG          [32]uintptr
	bootTLS        [4]uintptr
	bootPageTables [8 * 4096]byte

	// Boot is what the boot loader told us; read-only once Go runs.
	Boot BootInfo

	onlineCPUs = 1
	hasRDRAND  bool
	hasRDTSCP  bool
	imageEnd   uintptr
	booted     bool // set by bootMain: never true in a host process
)

// Boot path.
func bootMain(magic, info uint64) {
	booted = true
	hwConsoleInit()
	kprint("grove: kernel starting\n")
	if err := parseBootInfo(magic, info, identityMem{}, &Boot); err != nil {
		bootFail(err.Error())
	}
	_, _, end := bootAddrs()
	imageEnd = end
	memInit()
	pagingInit()
	stacks, err := kmem.allocRun((dfStackSize+kstackSize)/pageSize, 1)
	if err != nil {
		bootFail("no memory for kernel stacks")
	}
	_, _, _, edx := cpuid(0x80000001, 0)
	hasRDTSCP = edx&(1<<27) != 0
	cpuInit(&cpus[0], 0, stacks)
	idtInit()
	syscallInit()
	hwInterruptsInit()
	hwCalibrate()
	_, _, ecx, _ := cpuid(1, 0)
	hasRDRAND = ecx&(1<<30) != 0
	bklLock(&cpus[0]) // APs wait in apMain's idle loop until the runtime runs
	sp := tasksInit(&cpus[0])
	startAPs(cpusLimit(Boot.Cmdline0()))
	bklUnlock()
	enterUser(sp, rt0Addr())
}

// Boot path.
func bootFail(why string) {
	kprint("grove: cannot boot: ")
	kprint(why)
	kprint("\n")
	shutdown(1)
}

// memInit hands usable RAM above the kernel image to the page allocator.
// Boot path.
func memInit() {
	var top uint64
	for _, r := range Boot.Mem[:Boot.NMem] {
		if r.Type == memUsable && r.Base+r.Len > top {
			top = r.Base + r.Len
		}
	}
	if usable := Boot.UsableBytes(); usable < minMemory {
		kprint("grove: not enough memory: ")
		kprintDec(usable >> 20)
		kprint(" MiB usable, at least ")
		kprintDec(minMemory >> 20)
		kprint(" MiB needed\n")
		shutdown(1)
	}
	npages := top / pageSize
	size := (bitmapBytes(npages) + pageSize - 1) &^ (pageSize - 1)
	at := findFree(size)
	if at == 0 {
		bootFail("no room for the page bitmap")
	}
	kmem.initBitmap(uintptr(at), npages)
	for _, r := range Boot.Mem[:Boot.NMem] {
		if r.Type == memUsable {
			kmem.release(r.Base, r.Len)
		}
	}
	kmem.reserve(0, uint64(imageEnd))
	kmem.reserve(at, size)
	for _, m := range Boot.Mods[:Boot.NMods] {
		kmem.reserve(m.Base, m.Len)
	}
}

// findFree finds size bytes of usable RAM above the image and modules.
// Boot path.
func findFree(size uint64) uint64 {
	for _, r := range Boot.Mem[:Boot.NMem] {
		if r.Type != memUsable {
			continue
		}
		at := (max(r.Base, uint64(imageEnd)) + pageSize - 1) &^ (pageSize - 1)
		for _, m := range Boot.Mods[:Boot.NMods] {
			if at < m.Base+m.Len && m.Base < at+size {
				at = (m.Base + m.Len + pageSize - 1) &^ (pageSize - 1)
			}
		}
		if at+size <= r.Base+r.Len {
			return at
		}
	}
	return 0
}

// pagingInit replaces the trampoline's tables: RAM identity mapped with 2 MiB
// pages (4 GiB at least, for MMIO), page 0 unmapped so nil dereferences
// fault, the local and I/O APIC pages uncached.
// Boot path.
func pagingInit() {
	wrmsr(x86.MSREFER, rdmsr(x86.MSREFER)|x86.EFERNXE)
	var top uint64
	for _, r := range Boot.Mem[:Boot.NMem] {
		if r.Type == memUsable {
			top = max(top, r.Base+r.Len)
		}
	}
	identEnd := max(uint64(4<<30), (top+(1<<30)-1)&^((1<<30)-1))
	var err error
	if kas.pt.Tables, err = paging.New(kernelPT{}); err != nil {
		bootFail("no memory for page tables")
	}
	for pa := uint64(2 << 20); pa < identEnd; pa += 2 << 20 {
		flags := uint64(paging.P | paging.RW | paging.PS)
		if pa >= 0xfec00000 && pa < 0xff000000 {
			flags |= paging.PCD | paging.PWT
		}
		pde, err := kas.pt.Entry(pa, 1, paging.P|paging.RW)
		if err != nil {
			bootFail("no memory for page tables")
		}
		*pde = pa | flags
	}
	for pa := uintptr(pageSize); pa < 2<<20; pa += pageSize {
		if err := kas.pt.map4K(pa, pa, paging.RW); err != nil {
			bootFail("no memory for page tables")
		}
	}
	kas.identEnd = uintptr(identEnd)
	kas.mmapNext = mmapBase
	writeCR3(kas.pt.Root)
}

// tasksInit creates the idle task and the main thread, and returns the main
// thread's initial stack pointer.
// Boot path.
func tasksInit(c *percpu) uintptr {
	fninit()
	if !newIdleTask(c, uintptrOf(&bootTLS[1])) {
		bootFail("no memory for the idle stack")
	}

	main, mt := allocTask()
	mt.fsBase = uintptrOf(&bootTLS[1])
	mt.state = taskRunning
	mt.altFlags = ssDisable
	fxsave(mt.fpuAddr())
	c.cur, c.curFPU, c.hwFS = main, mt.fpuAddr(), mt.fsBase
	c.sliceEnd = nanotime() + sliceNS

	stack, err := kmem.allocRun(mainStackSize/pageSize, 1)
	if err != nil {
		bootFail("no memory for the main stack")
	}
	return buildInitialStack(stack+mainStackSize, Boot.Cmdline0())
}

// newIdleTask gives c its idle task: the idle loop on a page of its own
// stack, with fsBase for Go's TLS word.
// Boot path.
func newIdleTask(c *percpu, fsBase uintptr) bool {
	idle, it := allocTask()
	istack, err := kmem.alloc()
	if it == nil || err != nil {
		return false
	}
	it.regs = TrapFrame{RIP: uint64(idleLoopAddr()), CS: selKernelCode, SS: selKernelData,
		RFLAGS: x86.RFLAGSIF | x86.RFLAGSMBS, RSP: uint64(istack + pageSize)}
	it.fsBase = fsBase
	it.state = taskRunnable
	it.cpu = int32(c.id)
	it.affinity = 1 << uint(c.id)
	fxsave(it.fpuAddr())
	c.idle = idle
	return true
}

// Cmdline0 is Cmdline without allocating (boot time).
// Boot path.
func (b *BootInfo) Cmdline0() []byte { return b.cmdline[:b.cmdlineLen] }

// envp for the runtime. Asynchronous preemption is off: it would need SIGURG
// delivered at arbitrary points, and timer preemption of threads suffices.
const bootEnv = "GODEBUG=asyncpreemptoff=1"

// buildInitialStack lays out argc, argv ("grove" + command-line words), envp
// and the auxiliary vector below top, as Linux does for a new process.
// Boot path.
func buildInitialStack(top uintptr, cmdline []byte) uintptr {
	strs := top - 2048
	p := strs
	putStr := func(s string) uintptr {
		a := p
		copy(bytesAt(p, uintptr(len(s))), s)
		p += uintptr(len(s))
		*ptrAt[byte](p) = 0
		p++
		return a
	}
	var argv [64]uintptr
	argc := 0
	argv[argc] = putStr("grove")
	argc++
	for i := 0; i < len(cmdline) && argc < len(argv)-1; {
		for i < len(cmdline) && cmdline[i] == ' ' {
			i++
		}
		j := i
		for j < len(cmdline) && cmdline[j] != ' ' {
			j++
		}
		if j > i {
			argv[argc] = putStr(bytesString(cmdline[i:j]))
			argc++
		}
		i = j
	}
	env := putStr(bootEnv)
	rnd := (p + 15) &^ 15
	for i := uintptr(0); i < 16; i += 8 {
		*wordAt(rnd + i) = random()
	}
	const atNull, atPagesz, atClktck, atRandom = 0, 6, 17, 25
	words := [...]uintptr{atPagesz, pageSize, atClktck, 100, atRandom, rnd, atNull, 0}
	n := 1 + argc + 1 + 2 + len(words)
	sp := (strs - uintptr(n)*8) &^ 15
	w := sp
	push := func(v uintptr) { *wordAt(w) = uint64(v); w += 8 }
	push(uintptr(argc))
	for _, a := range argv[:argc] {
		push(a)
	}
	push(0)
	push(env)
	push(0)
	for _, v := range words {
		push(v)
	}
	return sp
}
