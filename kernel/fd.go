package kernel

import "grove/errno"

// File descriptors: 0-2 are the console; the rest are the epoll instances
// and eventfds the runtime's netpoller creates. Nothing else exists.

const (
	maxFDs      = 32
	maxEpollReg = 8
)

const (
	fdNone uint8 = iota
	fdConsole
	fdEpoll
	fdEvent
)

const (
	epollIn     = 0x1
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3
)

type epollReg struct {
	fd     int32
	events uint32
	data   uint64
}

type fdesc struct {
	kind  uint8
	count uint64 // eventfd counter
	regs  [maxEpollReg]epollReg
	nregs int
}

var fds = [maxFDs]fdesc{{kind: fdConsole}, {kind: fdConsole}, {kind: fdConsole}}

// Kernel context.
func fdValid(fd int) bool { return fd >= 0 && fd < maxFDs && fds[fd].kind != fdNone }

// Kernel context.
func newFD(kind uint8) uint64 {
	for i := 3; i < maxFDs; i++ {
		if fds[i].kind == fdNone {
			fds[i] = fdesc{kind: kind}
			return uint64(i)
		}
	}
	return sysErr(errno.EMFILE)
}

// Kernel context.
func sysCloseFn(c *percpu, f *TrapFrame) uint64 {
	fd := int(f.RDI)
	if !fdValid(fd) {
		return sysErr(errno.EBADF)
	}
	if fd > 2 {
		fds[fd] = fdesc{}
	}
	return 0
}

// Kernel context.
func sysEventfd2Fn(c *percpu, f *TrapFrame) uint64 {
	r := newFD(fdEvent)
	if int64(r) >= 0 {
		fds[r].count = uint64(uint32(f.RDI))
	}
	return r
}

// Kernel context.
func sysEpollCreate1Fn(c *percpu, f *TrapFrame) uint64 { return newFD(fdEpoll) }

// Kernel context.
func sysEpollCtlFn(c *percpu, f *TrapFrame) uint64 {
	ep, op, fd := int(f.RDI), int(f.RSI), int32(f.RDX)
	if !fdValid(ep) || fds[ep].kind != fdEpoll || !fdValid(int(fd)) {
		return sysErr(errno.EBADF)
	}
	e := &fds[ep]
	i := 0
	for i < e.nregs && e.regs[i].fd != fd {
		i++
	}
	if op == epollCtlDel {
		if i == e.nregs {
			return sysErr(errno.ENOENT)
		}
		e.regs[i] = e.regs[e.nregs-1]
		e.nregs--
		return 0
	}
	if !kas.access(uintptr(f.R10), 12, false) {
		return sysErr(errno.EFAULT)
	}
	if op == epollCtlAdd && i == e.nregs {
		if e.nregs == maxEpollReg {
			return sysErr(errno.ENOMEM)
		}
		e.nregs++
	} else if op != epollCtlMod || i == e.nregs {
		return sysErr(errno.EINVAL)
	}
	ev := uintptr(f.R10)
	e.regs[i] = epollReg{fd: fd, events: *ptrAt[uint32](ev), data: *ptrAt[uint64](ev + 4)}
	return 0
}

// ready collects epoll instance ep's ready registrations into out (packed
// struct epoll_event: u32 events, u64 data) and returns how many.
// Kernel context.
func ready(ep int, out uintptr, max int) int {
	n := 0
	e := &fds[ep]
	for i := 0; i < e.nregs && n < max; i++ {
		r := e.regs[i]
		if r.events&epollIn == 0 || fds[r.fd].kind != fdEvent || fds[r.fd].count == 0 {
			continue
		}
		if out != 0 {
			*ptrAt[uint32](out + uintptr(n)*12) = epollIn
			*ptrAt[uint64](out + uintptr(n)*12 + 4) = r.data
		}
		n++
	}
	return n
}

// Kernel context.
func sysEpollPwaitFn(c *percpu, f *TrapFrame) uint64 {
	ep, out, max, timeout := int(f.RDI), uintptr(f.RSI), int(int32(f.RDX)), int64(int32(f.R10))
	if !fdValid(ep) || fds[ep].kind != fdEpoll || max <= 0 {
		return sysErr(errno.EINVAL)
	}
	if !kas.access(out, uintptr(max)*12, true) {
		return sysErr(errno.EFAULT)
	}
	if n := ready(ep, out, max); n > 0 || timeout == 0 {
		return uint64(n)
	}
	var deadline int64
	if timeout > 0 {
		deadline = nanotime() + timeout*1_000_000
	}
	block(c, waitEpoll, deadline, 0)
	tasks[c.cur].futex = uintptr(ep) // which instance it waits on
	return 0
}

// kickEpoll restarts every epoll_pwait on an instance watching eventfd fd:
// the call runs again and now finds it ready.
// Kernel context.
func kickEpoll(fd int32) {
	for i := range tasks {
		t := &tasks[i]
		if t.state != taskBlocked || t.wait != waitEpoll {
			continue
		}
		e := &fds[t.futex]
		for j := 0; j < e.nregs; j++ {
			if e.regs[j].fd == fd {
				restart(int32(i))
				break
			}
		}
	}
}

// restart makes a blocked task execute its system call again (SYSCALL is two
// bytes; RAX still holds the call number because the result was never stored).
// Kernel context.
func restart(i int32) {
	t := &tasks[i]
	t.regs.RIP -= 2
	enqueue(i)
}

// Kernel context.
func sysReadFn(c *percpu, f *TrapFrame) uint64 {
	fd, buf, n := int(f.RDI), uintptr(f.RSI), uintptr(f.RDX)
	if !fdValid(fd) {
		return sysErr(errno.EBADF)
	}
	if !kas.access(buf, n, true) {
		return sysErr(errno.EFAULT)
	}
	switch fds[fd].kind {
	case fdEvent:
		if n < 8 {
			return sysErr(errno.EINVAL)
		}
		if fds[fd].count == 0 {
			return sysErr(errno.EAGAIN)
		}
		*wordAt(buf) = fds[fd].count
		fds[fd].count = 0
		return 8
	case fdConsole:
		got := consoleRead(bytesAt(buf, n))
		if got > 0 || n == 0 {
			return uint64(got)
		}
		// Nothing typed yet: poll again in a few milliseconds.
		block(c, waitSleep, nanotime()+5_000_000, 0)
		tasks[c.cur].restartOnTime = true
		return 0
	}
	return sysErr(errno.EINVAL)
}

// Kernel context.
func sysWriteFn(c *percpu, f *TrapFrame) uint64 {
	fd, buf, n := int(f.RDI), uintptr(f.RSI), uintptr(f.RDX)
	if !fdValid(fd) {
		return sysErr(errno.EBADF)
	}
	if !kas.access(buf, n, false) {
		return sysErr(errno.EFAULT)
	}
	switch fds[fd].kind {
	case fdEvent:
		if n < 8 {
			return sysErr(errno.EINVAL)
		}
		fds[fd].count += *wordAt(buf)
		kickEpoll(int32(fd))
		return 8
	case fdConsole:
		consoleWrite(bytesAt(buf, n))
		return uint64(n)
	}
	return sysErr(errno.EINVAL)
}
