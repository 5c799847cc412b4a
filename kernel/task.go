package kernel

// Tasks are the threads the Go runtime creates with clone, plus one idle task
// per CPU. A task that is not running keeps its registers in regs and its
// FPU/SSE state in fpu; the kernel itself keeps no per-task stack, so any
// kernel entry can end by resuming any task (see trap_amd64.s).

const maxTasks = 128

type taskState uint8

const (
	taskFree taskState = iota
	taskRunnable
	taskRunning
	taskBlocked
)

// waitKind says what a blocked task waits for.
type waitKind uint8

const (
	waitNone waitKind = iota
	waitFutex
	waitSleep
	waitEpoll
	waitIRQ // WaitIRQ (irqwait.go): futex holds the wait vector's index
)

type task struct {
	regs     TrapFrame
	fpu      [512 + 16]byte // FXSAVE image; 16-byte aligned inside
	fsBase   uintptr
	tid      int32
	state    taskState
	wait     waitKind
	futex    uintptr
	deadline int64  // monotonic ns; 0 = none
	onTime   uint64 // result (RAX) if the deadline passes
	// restartOnTime re-executes the system call when the deadline passes
	// (polled waits, e.g. console input).
	restartOnTime bool

	sigMask    uint64
	sigPending uint64
	altSP      uintptr
	altSize    uintptr
	altFlags   int32
	next       int32 // run queue link; -1 = none

	cpu      int32  // the CPU it last ran (or was queued) on
	affinity uint64 // CPUs it may run on (sched_setaffinity); 0 = any
}

var (
	tasks   [maxTasks]task
	nextTID int32 = 1
	nTasks  int   // live tasks, for diagnostics
)

// Kernel context.
func (t *task) fpuAddr() uintptr {
	return (uintptrOf(&t.fpu) + 15) &^ 15
}

// allocTask finds a free slot and gives it a TID.
// Kernel context.
func allocTask() (int32, *task) {
	for i := range tasks {
		if tasks[i].state == taskFree {
			t := &tasks[i]
			*t = task{tid: nextTID, next: -1}
			nextTID++
			nTasks++
			return int32(i), t
		}
	}
	return -1, nil
}

// enqueue makes task i runnable at the tail of a CPU's run queue: the CPU
// it last ran on if its affinity allows, else the first one allowed. An idle
// CPU that could run it is kicked (kickIdle).
// Kernel context, BKL held.
func enqueue(i int32) {
	t := &tasks[i]
	t.state = taskRunnable
	t.wait = waitNone
	t.deadline = 0
	t.next = -1
	if !t.allowedOn(int(t.cpu)) {
		t.cpu = int32(t.firstAllowed())
	}
	q := &cpus[t.cpu]
	if q.runTail < 0 {
		q.runHead = i
	} else {
		tasks[q.runTail].next = i
	}
	q.runTail = i
	q.runLen++
	kickIdle(int(t.cpu))
}

// allowedOn reports whether t may run on cpu.
// Kernel context.
func (t *task) allowedOn(cpu int) bool {
	return cpu < onlineCPUs && (t.affinity == 0 || t.affinity&(1<<uint(cpu)) != 0)
}

// Kernel context.
func (t *task) firstAllowed() int {
	for i := 0; i < onlineCPUs; i++ {
		if t.allowedOn(i) {
			return i
		}
	}
	return 0
}

// dequeue takes the next task for c: its own queue first, else one stolen
// from the busiest other queue that c may run.
// Kernel context, BKL held.
func dequeue(c *percpu) int32 {
	if i := popFrom(c, c.id); i >= 0 {
		return i
	}
	var busiest *percpu
	for k := 0; k < onlineCPUs; k++ {
		if o := &cpus[k]; o != c && o.runLen > 0 && (busiest == nil || o.runLen > busiest.runLen) {
			busiest = o
		}
	}
	if busiest == nil {
		return -1
	}
	i := popFrom(busiest, c.id)
	if i >= 0 {
		tasks[i].cpu = int32(c.id)
		steals++
	}
	return i
}

// steals counts tasks moved by work stealing (self-tests read it).
var steals uint64

// popFrom unlinks the first task of q's queue that may run on cpu (any task
// if cpu < 0).
// Kernel context.
func popFrom(q *percpu, cpu int) int32 {
	prev := int32(-1)
	for i := q.runHead; i >= 0; prev, i = i, tasks[i].next {
		if cpu >= 0 && !tasks[i].allowedOn(cpu) {
			continue
		}
		if prev < 0 {
			q.runHead = tasks[i].next
		} else {
			tasks[prev].next = tasks[i].next
		}
		if q.runTail == i {
			q.runTail = prev
		}
		tasks[i].next = -1
		q.runLen--
		return i
	}
	return -1
}

// wake ends task i's wait with result res in RAX.
// Kernel context.
func wake(i int32, res uint64) {
	t := &tasks[i]
	t.regs.RAX = res
	enqueue(i)
}

// block puts the running task to sleep until woken or until deadline (ns,
// 0 = none), when RAX becomes onTime. The caller's frame is saved by schedule.
// Kernel context.
func block(c *percpu, kind waitKind, deadline int64, onTime uint64) {
	t := &tasks[c.cur]
	t.state = taskBlocked
	t.wait = kind
	t.deadline = deadline
	t.onTime = onTime
	if deadline != 0 && (c.nextDeadline == 0 || deadline < c.nextDeadline) {
		c.nextDeadline = deadline
	}
}

// schedule picks what c runs next and switches the frame to it. The running
// task keeps the CPU unless it blocked, yielded (preempt) or its slice ended.
// Kernel context.
func schedule(c *percpu, f *TrapFrame, preempt bool) {
	cur := &tasks[c.cur]
	running := cur.state == taskRunning && c.cur != c.idle
	if running && !preempt {
		return
	}
	if running {
		enqueue(c.cur)
	}
	next := dequeue(c)
	if next < 0 {
		next = c.idle
	}
	switchTo(c, f, next)
}

// switchTo saves the frame into the current task and loads task next.
// Kernel context.
func switchTo(c *percpu, f *TrapFrame, next int32) {
	n := &tasks[next]
	if next != c.cur {
		cur := &tasks[c.cur]
		cur.regs = *f
		if cur.state == taskRunning {
			cur.state = taskRunnable
		}
		*f = n.regs
		c.cur = next
		c.curFPU = n.fpuAddr()
	}
	n.state = taskRunning
	n.cpu = int32(c.id)
	c.sliceEnd = nanotime() + sliceNS
	if n.fsBase != c.hwFS {
		c.newFS = n.fsBase
		c.hwFS = n.fsBase
	}
}

// expire wakes c's tasks whose deadline has passed (those that blocked on
// c) and returns the earliest deadline still pending there (0 = none).
// Kernel context.
func expire(c *percpu, now int64) int64 {
	var earliest int64
	for i := range tasks {
		t := &tasks[i]
		if t.state != taskBlocked || t.deadline == 0 || int(t.cpu) != c.id {
			continue
		}
		if t.deadline <= now && t.restartOnTime {
			t.restartOnTime = false
			restart(int32(i))
		} else if t.deadline <= now {
			wake(int32(i), t.onTime)
		} else if earliest == 0 || t.deadline < earliest {
			earliest = t.deadline
		}
	}
	return earliest
}

// kickIdle makes sure a task queued for target gets a CPU soon. A different
// target CPU is interrupted (vecResched) if it idles, or if its timer would
// not end the running task's slice; a task queued on this CPU wakes one idle
// CPU, which steals it.
// Kernel context, BKL held.
func kickIdle(target int) {
	if onlineCPUs == 1 {
		return
	}
	me := thisCPU().id
	if target != me {
		t := &cpus[target]
		if t.cur == t.idle || t.armed == 0 || t.armed > t.sliceEnd {
			sendResched(t)
		}
		return
	}
	for k := 0; k < onlineCPUs; k++ {
		if o := &cpus[k]; k != me && o.cur == o.idle {
			sendResched(o)
			return
		}
	}
}

// sendResched interrupts o once: further kicks wait until it took this one.
// Kernel context.
func sendResched(o *percpu) {
	if o.kicked.CompareAndSwap(false, true) {
		hwSendIPI(o.apicID, vecResched)
	}
}
