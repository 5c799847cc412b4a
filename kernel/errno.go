package kernel

// errno is a Linux error number; system calls return its negation in RAX.
type errno uintptr

const (
	ePERM     errno = 1
	eNOENT    errno = 2
	eSRCH     errno = 3
	eINTR     errno = 4
	eBADF     errno = 9
	eAGAIN    errno = 11
	eNOMEM    errno = 12
	eFAULT    errno = 14
	eINVAL    errno = 22
	eMFILE    errno = 24
	eNOSYS    errno = 38
	eTIMEDOUT errno = 110
)

func (e errno) ret() uint64 { return uint64(-int64(e)) }
