package kernel

import "github.com/usbarmory/tamago/soc/intel/uart"

// The console is COM1 through tamago's 16550 driver. Its Init sets no line
// parameters, so the kernel programs 115200 8N1 first (real boards need it;
// QEMU ignores it).
var com1 = uart.UART{Index: 1, Base: 0x3f8}

func consoleInit() {
	const base = 0x3f8
	outb(base+1, 0x00) // IER: no interrupts
	outb(base+3, 0x80) // LCR: DLAB
	outb(base+0, 0x01) // DLL: 115200 baud
	outb(base+1, 0x00) // DLM
	outb(base+3, 0x03) // LCR: 8N1
	outb(base+2, 0xc7) // FCR: FIFO on, cleared, 14-byte threshold
	com1.Init()
}

func consoleWrite(b []byte) {
	for _, c := range b {
		if c == '\n' {
			com1.Tx('\r')
		}
		com1.Tx(c)
	}
}

// consoleRead takes what is in the receive FIFO without waiting.
func consoleRead(b []byte) int {
	n := 0
	for n < len(b) {
		c, ok := com1.Rx()
		if !ok {
			break
		}
		if c == '\r' {
			c = '\n'
		}
		b[n] = c
		n++
	}
	return n
}

// kprint writes a string from kernel context (no allocation).
func kprint(s string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			com1.Tx('\r')
		}
		com1.Tx(s[i])
	}
}

func kprintHex(v uint64) {
	var b [18]byte
	b[0], b[1] = '0', 'x'
	for i := 0; i < 16; i++ {
		b[17-i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
	consoleWrite(b[:])
}

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
