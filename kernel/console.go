package kernel

// The console: COM1 on metal, console_io hypercalls in a guest
// (platform_*.go). These helpers never allocate (kernel context).

// Kernel context.
func consoleWrite(b []byte) { hwPut(b) }

// consoleRead takes what input is there without waiting.
// Kernel context.
func consoleRead(b []byte) int { return hwGet(b) }

// kprint writes a string to the console without allocating.
// Kernel context.
func kprint(s string) {
	if len(s) > 0 {
		hwPut(stringBytes(s))
	}
}

// Kernel context.
func kprintHex(v uint64) {
	var b [18]byte
	b[0], b[1] = '0', 'x'
	for i := 0; i < 16; i++ {
		b[17-i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
	consoleWrite(b[:])
}

// Kernel context.
func kprintDec(v uint64) {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	consoleWrite(b[i:])
}

// Kernel context.
func kprintHexShort(v uint64) {
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = "0123456789abcdef"[v&15]
		v >>= 4
		if v == 0 {
			break
		}
	}
	consoleWrite(b[i:])
}
