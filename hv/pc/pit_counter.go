package pc

// One 8254 counter (Intel 82C54 CHMOS Programmable Interval Timer
// datasheet, 231244; names as there: CR, CE, OL, OUT, GATE, null count).
// Its count and OUT are functions of the clock ticks elapsed while it
// counted, so nothing has to run per tick: e ticks after the count N was
// loaded,
//
//	mode 0, 1, 4, 5 (one-shots): CE = N - e (wrapping); OUT rises at
//	    e = N (0, 1) or pulses low at e = N (4, 5)
//	mode 2 (rate generator):     CE = N - e mod N; OUT low while CE = 1
//	mode 3 (square wave):        CE steps by 2; OUT high the first half
//
// Modes 1 and 5 count only after a GATE rising edge (the trigger).
// Departures from the datasheet, none of which Linux depends on: a count
// takes effect when written (the 8254 waits for the next CLK, and in
// modes 2 and 3 for the end of the current period), and in mode 3 with an
// odd N the count sequence is approximate; OUT's timing is exact.
type pitCounter struct {
	mode uint8 // 0-5
	rw   uint8 // access: pitLSB, pitMSB or pitLoHi
	bcd  bool

	n         uint32 // the count: 1..0x10000 (1..10000 in BCD)
	loaded    bool   // a count was written since the control word
	gate      bool
	triggered bool   // modes 1, 5: a GATE rising edge started counting
	running   bool   // CE is counting
	runSince  int64  // when counting last resumed
	accNs     int64  // time counted before runSince
	held      uint32 // CE as it stood at the control word, until a count is loaded
	edges     uint64 // OUT rising edges already reported (channel 0)

	writeMSB bool  // lohi: the LSB was written, the MSB comes next
	lsb      uint8 // that LSB
	readMSB  bool  // lohi: the next unlatched read returns the MSB
	latched  int   // bytes of the latched count (OL) still to read
	ol       uint16
	status   uint8
	stLatch  bool // a read-back status byte waits to be read
}

// Control word RW field.
const (
	pitLatch = 0
	pitLSB   = 1
	pitMSB   = 2
	pitLoHi  = 3
)

func (c *pitCounter) modulus() uint64 {
	if c.bcd {
		return 10000
	}
	return 0x10000
}

// ticks is how many CLK periods the counter has counted by now.
func (c *pitCounter) ticks(now int64) uint64 {
	ns := c.accNs
	if c.running {
		ns += now - c.runSince
	}
	return countAt(ns, PITHz)
}

func (c *pitCounter) pause(now int64) {
	if c.running {
		c.accNs += now - c.runSince
		c.running = false
	}
}

func (c *pitCounter) restart(now int64) {
	c.accNs, c.runSince, c.running, c.edges = 0, now, true, 0
}

// program applies a control word's mode, access and BCD fields.
func (c *pitCounter) program(v uint8, now int64) {
	c.held = c.count(now)
	c.rw = (v >> 4) & 3
	c.mode = (v >> 1) & 7
	if c.mode >= 6 {
		c.mode -= 4 // 6 and 7 are modes 2 and 3
	}
	c.bcd = v&1 != 0
	c.loaded, c.running, c.triggered = false, false, false
	c.writeMSB, c.readMSB, c.latched, c.stLatch = false, false, 0, false
}

// writeCount takes one byte of a new count.
func (c *pitCounter) writeCount(v uint8, now int64) {
	switch c.rw {
	case pitLSB:
		c.load(uint16(v), now)
	case pitMSB:
		c.load(uint16(v)<<8, now)
	default:
		if !c.writeMSB {
			c.lsb, c.writeMSB = v, true
			if c.mode == 0 { // the first byte stops a mode 0 count
				c.held = c.count(now)
				c.loaded, c.running = false, false
			}
			return
		}
		c.writeMSB = false
		c.load(uint16(c.lsb)|uint16(v)<<8, now)
	}
}

func (c *pitCounter) load(raw uint16, now int64) {
	n := uint32(raw)
	if c.bcd {
		n = fromBCD(raw) % 10000
	}
	if n == 0 {
		n = uint32(c.modulus())
	}
	c.n, c.loaded = n, true
	c.restart(now)
	switch c.mode {
	case 1, 5:
		c.running, c.triggered = false, false // wait for a trigger
	default:
		c.running = c.gate
	}
}

// setGate follows GATE: it pauses modes 0 and 4, stops and reloads modes
// 2 and 3, and triggers modes 1 and 5 on a rising edge.
func (c *pitCounter) setGate(g bool, now int64) {
	if g == c.gate {
		return
	}
	c.gate = g
	if !c.loaded {
		return
	}
	switch {
	case !g:
		if c.mode != 1 && c.mode != 5 {
			c.pause(now)
		}
	case c.mode == 0 || c.mode == 4:
		c.running, c.runSince = true, now
	default:
		c.restart(now)
		c.triggered = true
	}
}

// count is CE in binary.
func (c *pitCounter) count(now int64) uint32 {
	if !c.loaded {
		return c.held
	}
	e, n, m := c.ticks(now), uint64(c.n), c.modulus()
	var v uint64
	switch c.mode {
	case 2:
		v = n - e%n
	case 3:
		half := (n + 1) / 2
		h := e % n
		if h >= half {
			h -= half
		}
		v = n - 2*h
	default:
		v = n + m - e%m
	}
	return uint32(v % m)
}

// out is the OUT pin.
func (c *pitCounter) out(now int64) bool {
	if !c.loaded {
		return c.mode != 0
	}
	e, n := c.ticks(now), uint64(c.n)
	switch c.mode {
	case 0:
		return e >= n
	case 1:
		return !c.triggered || e >= n
	case 2:
		return !c.gate || n == 1 || e%n != n-1
	case 3:
		return !c.gate || e%n < (n+1)/2
	default: // 4, 5: one CLK low at terminal count
		return (c.mode == 5 && !c.triggered) || e != n
	}
}

// edgeTick is the tick of OUT's k-th rising edge (k >= 1) since the count
// was loaded: the IRQ0 pulses.
func (c *pitCounter) edgeTick(k uint64) (uint64, bool) {
	n := uint64(c.n)
	switch {
	case !c.loaded:
		return 0, false
	case c.mode == 2 || c.mode == 3:
		return k * n, true
	case k > 1:
		return 0, false
	case c.mode == 0 || (c.mode == 1 && c.triggered):
		return n, true
	case c.mode == 4 || (c.mode == 5 && c.triggered):
		return n + 1, true
	}
	return 0, false // modes 1 and 5 before their trigger
}

// edgesBy is how many rising edges OUT has made by tick e.
func (c *pitCounter) edgesBy(e uint64) uint64 {
	if c.mode == 2 || c.mode == 3 {
		return e / uint64(c.n)
	}
	if t, ok := c.edgeTick(1); ok && e >= t {
		return 1
	}
	return 0
}

// display is CE as the guest reads it: BCD in BCD mode.
func (c *pitCounter) display(now int64) uint16 {
	v := c.count(now)
	if c.bcd {
		return toBCD(v % 10000)
	}
	return uint16(v)
}

// latch is the counter latch command: OL holds CE until read, and a
// second latch before then is ignored.
func (c *pitCounter) latch(now int64) {
	if c.latched > 0 {
		return
	}
	c.ol = c.display(now)
	c.latched = 1
	if c.rw == pitLoHi {
		c.latched = 2
	}
}

// latchStatus is the read-back command's status latch: OUT, null count,
// RW, mode, BCD.
func (c *pitCounter) latchStatus(now int64) {
	if c.stLatch {
		return
	}
	s := c.rw<<4 | c.mode<<1
	if c.bcd {
		s |= 1
	}
	if !c.loaded {
		s |= 1 << 6
	}
	if c.out(now) {
		s |= 1 << 7
	}
	c.status, c.stLatch = s, true
}

// read returns the next byte: a latched status, then a latched count,
// then the live count, in the access order the control word chose.
func (c *pitCounter) read(now int64) uint8 {
	if c.stLatch {
		c.stLatch = false
		return c.status
	}
	if c.latched > 0 {
		return c.readLatched()
	}
	v := c.display(now)
	switch c.rw {
	case pitLSB:
		return uint8(v)
	case pitMSB:
		return uint8(v >> 8)
	}
	c.readMSB = !c.readMSB
	if c.readMSB {
		return uint8(v)
	}
	return uint8(v >> 8)
}

func (c *pitCounter) readLatched() uint8 {
	c.latched--
	switch {
	case c.rw == pitMSB:
		return uint8(c.ol >> 8)
	case c.rw == pitLoHi && c.latched == 0:
		return uint8(c.ol >> 8)
	}
	return uint8(c.ol)
}

// fromBCD reads four BCD digits; non-decimal digits count as their value.
func fromBCD(v uint16) uint32 {
	return uint32(v>>12)*1000 + uint32(v>>8&15)*100 + uint32(v>>4&15)*10 + uint32(v&15)
}

func toBCD(v uint32) uint16 {
	return uint16(v/1000%10)<<12 | uint16(v/100%10)<<8 | uint16(v/10%10)<<4 | uint16(v%10)
}
