// Package errno holds Grove's error numbers, for the hypercall layer and
// for package kernel's Linux system calls alike. Each value is the Linux
// errno number of the same name, so either can hand a value back unchanged
// (as -errno in RAX) and errors.Is works from the hypercall layer up to
// grovectl. The constants and Ret allocate nothing, so kernel context may
// use them; Error and Name are for goroutines.
//
// errno owns nothing but the numbers and their names; it must never grow
// wrapping or context: callers above the hypercall layer add the object with
// fmt.Errorf("group 7: %w", err).
package errno

import "strconv"

// Errno is a Linux/Xen error number. The zero value is not an error and is
// never returned as one.
type Errno uintptr

// Linux x86_64 numbers (include/uapi/asm-generic/errno-base.h, errno.h).
const (
	EPERM     Errno = 1
	ENOENT    Errno = 2
	ESRCH     Errno = 3
	EINTR     Errno = 4
	EBADF     Errno = 9
	EAGAIN    Errno = 11
	ENOMEM    Errno = 12
	EIO       Errno = 5 // the hypervisor failed unexpectedly (a bug it reports)
	E2BIG     Errno = 7 // a gang needs more CPUs than there are
	EACCES    Errno = 13
	EFAULT    Errno = 14
	EBUSY     Errno = 16
	EEXIST    Errno = 17
	ENODEV    Errno = 19
	EINVAL    Errno = 22
	EMFILE    Errno = 24
	ENOSPC    Errno = 28
	ENOSYS    Errno = 38
	EOVERFLOW Errno = 75
	ETIMEDOUT Errno = 110
)

type info struct{ name, text string }

// The texts name Grove's objects where the errno has one meaning here, so a
// log line reads "no such domain or group (ESRCH)" instead of "no such process".
var table = map[Errno]info{
	EPERM:     {"EPERM", "operation not permitted"},
	ENOENT:    {"ENOENT", "no such file or directory"},
	ESRCH:     {"ESRCH", "no such domain or group"},
	EINTR:     {"EINTR", "interrupted"},
	EBADF:     {"EBADF", "bad file descriptor"},
	EAGAIN:    {"EAGAIN", "try again"},
	EIO:       {"EIO", "hypervisor internal error"},
	E2BIG:     {"E2BIG", "too big for the CPUs"},
	EACCES:    {"EACCES", "interface version mismatch"},
	EFAULT:    {"EFAULT", "bad guest address"},
	EBUSY:     {"EBUSY", "busy"},
	EEXIST:    {"EEXIST", "already exists"},
	ENODEV:    {"ENODEV", "no such device"},
	EINVAL:    {"EINVAL", "invalid argument"},
	EMFILE:    {"EMFILE", "too many open files"},
	ENOMEM:    {"ENOMEM", "out of memory"},
	ENOSPC:    {"ENOSPC", "table full"},
	ENOSYS:    {"ENOSYS", "function not implemented"},
	EOVERFLOW: {"EOVERFLOW", "count would overflow"},
	ETIMEDOUT: {"ETIMEDOUT", "timed out"},
}

// Error returns e.g. "no such domain or group (ESRCH)".
func (e Errno) Error() string {
	if in, ok := table[e]; ok {
		return in.text + " (" + in.name + ")"
	}
	return "errno " + strconv.FormatUint(uint64(e), 10)
}

// Name returns the symbolic name, e.g. "ESRCH", or "errno N" if unknown.
func (e Errno) Name() string {
	if in, ok := table[e]; ok {
		return in.name
	}
	return "errno " + strconv.FormatUint(uint64(e), 10)
}

// Ret is the hypercall return value for e: its negation, as Xen and Linux
// return it in RAX.
func (e Errno) Ret() int64 { return -int64(e) }
