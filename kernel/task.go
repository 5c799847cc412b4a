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
}

var (
	tasks   [maxTasks]task
	nextTID int32 = 1
	runHead int32 = -1
	runTail int32 = -1
	schedMu spinlock
	nTasks  int // live tasks, for diagnostics
)

func (t *task) fpuAddr() uintptr {
	return (uintptrOf(&t.fpu) + 15) &^ 15
}

// allocTask finds a free slot and gives it a TID.
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

// enqueue makes task i runnable at the tail of the run queue.
func enqueue(i int32) {
	t := &tasks[i]
	t.state = taskRunnable
	t.wait = waitNone
	t.deadline = 0
	t.next = -1
	if runTail < 0 {
		runHead = i
	} else {
		tasks[runTail].next = i
	}
	runTail = i
}

func dequeue() int32 {
	i := runHead
	if i >= 0 {
		runHead = tasks[i].next
		if runHead < 0 {
			runTail = -1
		}
		tasks[i].next = -1
	}
	return i
}

// wake ends task i's wait with result res in RAX.
func wake(i int32, res uint64) {
	t := &tasks[i]
	t.regs.RAX = res
	enqueue(i)
}

// block puts the running task to sleep until woken or until deadline (ns,
// 0 = none), when RAX becomes onTime. The caller's frame is saved by schedule.
func block(c *percpu, kind waitKind, deadline int64, onTime uint64) {
	t := &tasks[c.cur]
	t.state = taskBlocked
	t.wait = kind
	t.deadline = deadline
	t.onTime = onTime
	if deadline != 0 && (nextDeadline == 0 || deadline < nextDeadline) {
		nextDeadline = deadline
	}
}

// schedule picks what c runs next and switches the frame to it. The running
// task keeps the CPU unless it blocked, yielded (preempt) or its slice ended.
func schedule(c *percpu, f *TrapFrame, preempt bool) {
	cur := &tasks[c.cur]
	running := cur.state == taskRunning && c.cur != c.idle
	if running && !preempt {
		return
	}
	if running {
		enqueue(c.cur)
	}
	next := dequeue()
	if next < 0 {
		next = c.idle
	}
	switchTo(c, f, next)
}

// switchTo saves the frame into the current task and loads task next.
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
	c.sliceEnd = nanotime() + sliceNS
	if n.fsBase != c.hwFS {
		c.newFS = n.fsBase
		c.hwFS = n.fsBase
	}
}

// expire wakes tasks whose deadline has passed and returns the earliest
// deadline still pending (0 = none).
func expire(now int64) int64 {
	var earliest int64
	for i := range tasks {
		t := &tasks[i]
		if t.state != taskBlocked || t.deadline == 0 {
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
