package rcu

import (
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultStallTimeout is how long Synchronize waits for one reader before
// reporting it as stalled.
const DefaultStallTimeout = 10 * time.Second

// cacheLine is the x86_64 line size; slots and the period counter sit on
// their own lines so one reader's stores never invalidate another's.
const cacheLine = 64

// State is one RCU instance: its reader slots, its grace periods and its
// callback queue. Readers of different instances never wait for each other.
type State struct {
	// gp is the current grace-period number, starting at 1 (0 in a slot
	// means idle). Only Synchronize writes it; every outermost Lock reads it.
	gp atomic.Uint64
	_  [cacheLine - 8]byte

	// mu serializes grace periods. Lock order: mu before cbMu is never
	// needed (the callback goroutine takes them one after the other).
	mu   sync.Mutex
	done atomic.Uint64 // last completed grace period

	slots []Reader
	// expedited: readers store to their slots with plain stores and
	// Synchronize orders them with membarrier(2) (doc.go, "Ordering").
	expedited bool

	stallTimeout time.Duration
	stall        func(slot int, held time.Duration)
	now          func() time.Time

	cb callbacks
}

// Reader is one reader slot. Get it with State.Reader; its zero value is
// not usable.
type Reader struct {
	// ctr is the period the current outermost section began in, 0 if idle.
	// Written only by the owner, through setCtr; read by Synchronize and
	// Stalled with atomic loads (loadCtr).
	ctr uint64
	// stalled is the ctr value last reported as stalled, 0 if none.
	stalled atomic.Uint64
	// nest is the section depth; only the owner touches it.
	nest uint32
	idx  int32
	st   *State
	// expedited is st.expedited, kept on the slot's own line so that the
	// read side touches only its line and st.gp.
	expedited bool
	_         [cacheLine - 33]byte
}

// Option configures New.
type Option func(*State)

// WithStallTimeout sets how long a reader may hold up a grace period before
// it is reported. d <= 0 keeps the default.
func WithStallTimeout(d time.Duration) Option {
	return func(s *State) {
		if d > 0 {
			s.stallTimeout = d
		}
	}
}

// WithStall sets the stall hook. It is called from Synchronize, with the
// grace-period lock held, so it must not call Synchronize or Barrier.
func WithStall(f func(slot int, held time.Duration)) Option {
	return func(s *State) { s.stall = f }
}

// WithClock injects the clock used for stall detection.
func WithClock(now func() time.Time) Option {
	return func(s *State) { s.now = now }
}

// New returns an instance with nslots reader slots (at least 1). Its read
// side is the expedited flavour where the kernel offers membarrier(2) and
// the build is not under the race detector, the fenced flavour otherwise
// (doc.go, "Flavours").
func New(nslots int, opts ...Option) *State {
	return newState(nslots, expedited(), opts...)
}

// newState is New with the flavour chosen by the caller (tests run both).
func newState(nslots int, fast bool, opts ...Option) *State {
	if nslots < 1 {
		panic(fmt.Sprintf("rcu: New(%d): need at least one reader slot", nslots))
	}
	s := &State{
		slots:        make([]Reader, nslots),
		expedited:    fast,
		stallTimeout: DefaultStallTimeout,
		stall:        logStall,
		now:          time.Now,
	}
	s.gp.Store(1)
	s.done.Store(1) // period 1 has no predecessor to wait for
	for i := range s.slots {
		s.slots[i].idx = int32(i)
		s.slots[i].st = s
		s.slots[i].expedited = fast
	}
	s.cb.init(s)
	for _, o := range opts {
		o(s)
	}
	return s
}

func logStall(slot int, held time.Duration) {
	log.Printf("rcu: reader slot %d has held up a grace period for %v (missing Unlock?)", slot, held)
}

// NumSlots returns the number of reader slots.
func (s *State) NumSlots() int { return len(s.slots) }

// Reader returns slot i. It panics if i is out of range.
func (s *State) Reader(i int) *Reader {
	if i < 0 || i >= len(s.slots) {
		panic(fmt.Sprintf("rcu: reader slot %d out of range [0,%d)", i, len(s.slots)))
	}
	return &s.slots[i]
}

// Slot returns the slot's index.
func (r *Reader) Slot() int { return int(r.idx) }

// Lock enters a read-side section; sections nest.
//
// The outermost Lock and Unlock store constants to nest rather than nest±1:
// the load of nest then only feeds a predicted branch, and back-to-back
// sections do not form a chain of store-to-load forwardings through it.
func (r *Reader) Lock() {
	if r.nest == 0 {
		r.enter(r.st.gp.Load())
		r.nest = 1
		return
	}
	r.nest++
}

// Unlock leaves a read-side section. Unlock without a matching Lock panics.
func (r *Reader) Unlock() {
	if r.nest == 1 {
		r.exit()
		r.nest = 0
		return
	}
	if r.nest == 0 {
		panic(unbalanced(r.idx))
	}
	r.nest--
}

// enter publishes the period the slot's section began in: a plain store in
// the expedited flavour, Go's atomic store (XCHG on amd64, a full barrier)
// in the fenced one. exit publishes 0 with a plain store in both flavours
// on amd64, since x86 never makes a store visible before earlier loads and
// stores. doc.go's "Ordering" has the argument. plainStores is a constant,
// false under the race detector and off amd64: those builds store only
// with atomics.
func (r *Reader) enter(gp uint64) {
	if plainStores && r.expedited {
		r.ctr = gp
	} else {
		atomic.StoreUint64(&r.ctr, gp)
	}
}

func (r *Reader) exit() {
	if plainStores {
		r.ctr = 0
	} else {
		atomic.StoreUint64(&r.ctr, 0)
	}
}

// loadCtr reads another goroutine's slot.
func (r *Reader) loadCtr() uint64 { return atomic.LoadUint64(&r.ctr) }

// unbalanced is Unlock's panic value: a conversion, not a fmt call, so that
// Unlock stays small enough to inline.
type unbalanced int32

func (idx unbalanced) Error() string {
	return fmt.Sprintf("rcu: Unlock on reader slot %d without matching Lock", int32(idx))
}

// Held reports whether the slot is inside a read-side section. Only the
// slot's owner may call it.
func (r *Reader) Held() bool { return r.nest > 0 }
