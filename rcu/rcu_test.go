package rcu

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// flavour is one read-side flavour; tests run every one this build has.
type flavour struct {
	name      string
	expedited bool
}

// flavours are the fenced flavour, and the expedited one where the kernel
// registered this process for membarrier(2) (never under -race).
func flavours() []flavour {
	fl := []flavour{{flavourName(false), false}}
	if expedited() {
		fl = append(fl, flavour{flavourName(true), true})
	}
	return fl
}

func flavourName(expedited bool) string {
	if expedited {
		return "membarrier"
	}
	return "fenced"
}

// waitFor polls cond for up to 5 s; tests use it instead of fixed sleeps
// wherever they wait for something to happen.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// returnsWithin runs f in a goroutine and reports whether it finished within d.
// The channel lets a test wait for it later.
func returnsWithin(f func(), d time.Duration) (bool, chan struct{}) {
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
		return true, done
	case <-time.After(d):
		return false, done
	}
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		if !strings.Contains(fmt.Sprint(r), want) {
			t.Fatalf("panic %q, want it to contain %q", r, want)
		}
	}()
	f()
}

func TestSlotIsOneCacheLine(t *testing.T) {
	if got := reflect.TypeFor[Reader]().Size(); got != cacheLine {
		t.Fatalf("sizeof(Reader) = %d, want %d", got, cacheLine)
	}
}

func TestBadArgumentsPanic(t *testing.T) {
	s := New(4)
	for _, tc := range []struct {
		name string
		want string
		f    func()
	}{
		{"New(0)", "need at least one reader slot", func() { New(0) }},
		{"Reader(-1)", "slot -1 out of range", func() { s.Reader(-1) }},
		{"Reader(4)", "slot 4 out of range", func() { s.Reader(4) }},
		{"Unlock-without-Lock", "Unlock on reader slot 3 without matching Lock", func() { s.Reader(3).Unlock() }},
		{"Load-without-Lock", "outside a read-side section on reader slot 2", func() {
			var p Pointer[int]
			p.Load(s.Reader(2))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { mustPanic(t, tc.want, tc.f) })
	}
}

func TestNesting(t *testing.T) {
	s := New(1)
	r := s.Reader(0)
	r.Lock()
	entered := r.loadCtr()
	r.Lock()
	r.Unlock()
	if !r.Held() || r.loadCtr() != entered {
		t.Fatalf("inner Unlock ended the outer section (ctr %d)", r.loadCtr())
	}
	r.Unlock()
	if r.Held() || r.loadCtr() != 0 {
		t.Fatalf("slot still active after balanced Unlock (ctr %d)", r.loadCtr())
	}
	mustPanic(t, "without matching Lock", r.Unlock)
}

func TestReadSideDoesNotAllocate(t *testing.T) {
	s := New(1)
	r := s.Reader(0)
	var p Pointer[int]
	p.Store(new(int))
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Lock-Unlock", func() { r.Lock(); r.Unlock() }},
		{"nested", func() { r.Lock(); r.Lock(); r.Unlock(); r.Unlock() }},
		{"Pointer.Load", func() { r.Lock(); _ = p.Load(r); r.Unlock() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tc.f); n != 0 {
				t.Fatalf("%v allocations per run, want 0", n)
			}
		})
	}
}

func TestSynchronizeWaitsForEarlierReader(t *testing.T) {
	s := New(2)
	r := s.Reader(1)
	r.Lock()
	ok, done := returnsWithin(s.Synchronize, 50*time.Millisecond)
	if ok {
		t.Fatal("Synchronize returned while a reader that entered before it was inside")
	}
	r.Unlock()
	<-done
}

func TestSynchronizeIgnoresLaterReader(t *testing.T) {
	s := New(2)
	early, late := s.Reader(0), s.Reader(1)
	early.Lock()
	before := s.gp.Load()
	ok, done := returnsWithin(s.Synchronize, 0)
	if ok {
		t.Fatal("Synchronize returned with a reader inside")
	}
	waitFor(t, "the grace period to start", func() bool { return s.gp.Load() > before })
	late.Lock()
	early.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Synchronize waited for a reader that entered after its grace period started")
	}
	late.Unlock()
}

func TestSynchronizeWithoutReaders(t *testing.T) {
	s := New(3)
	for range 10 {
		s.Synchronize()
	}
	if got := s.GracePeriods(); got != 10 {
		t.Fatalf("GracePeriods() = %d, want 10", got)
	}
}

func TestCallWaitsForEarlierReader(t *testing.T) {
	s := New(1)
	r := s.Reader(0)
	var ran atomic.Bool
	r.Lock()
	s.Call(func() { ran.Store(true) })
	time.Sleep(20 * time.Millisecond)
	if ran.Load() {
		t.Fatal("callback ran while a reader that entered before Call was inside")
	}
	r.Unlock()
	s.Barrier()
	if !ran.Load() {
		t.Fatal("Barrier returned before the callback ran")
	}
}

func TestCallbacksRunInOrder(t *testing.T) {
	s := New(1)
	var got []int // only the drain goroutine appends; Barrier orders the read
	for i := range 1000 {
		s.Call(func() {
			got = append(got, i)
			if i%100 == 0 { // callbacks may queue more work
				s.Call(func() {})
			}
		})
	}
	s.Barrier()
	want := make([]int, 1000)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Fatalf("callbacks ran out of order: %v...", got[:min(len(got), 20)])
	}
}

func TestBarrierWithoutCallbacks(t *testing.T) {
	if ok, _ := returnsWithin(New(1).Barrier, 5*time.Second); !ok {
		t.Fatal("Barrier with nothing queued did not return")
	}
}

func TestStallIsReported(t *testing.T) {
	type report struct {
		slot int
		held time.Duration
	}
	reports := make(chan report, 16)
	s := New(3, WithStallTimeout(20*time.Millisecond),
		WithStall(func(slot int, held time.Duration) { reports <- report{slot, held} }))
	r := s.Reader(2)
	r.Lock() // and "forget" Unlock
	_, done := returnsWithin(s.Synchronize, 0)
	var got report
	select {
	case got = <-reports:
	case <-time.After(5 * time.Second):
		t.Fatal("no stall report within 5s")
	}
	if got.slot != 2 || got.held < 20*time.Millisecond {
		t.Fatalf("stall report = %+v, want slot 2 held >= 20ms", got)
	}
	if st := s.Stalled(); !slices.Equal(st, []int{2}) {
		t.Fatalf("Stalled() = %v, want [2]", st)
	}
	r.Unlock()
	<-done
	if st := s.Stalled(); len(st) != 0 {
		t.Fatalf("Stalled() = %v after Unlock, want none", st)
	}
}

func TestConcurrentSynchronizeShareGracePeriods(t *testing.T) {
	s := New(1)
	r := s.Reader(0)
	r.Lock()
	const callers = 8
	dones := make([]chan struct{}, callers)
	for i := range dones {
		_, dones[i] = returnsWithin(s.Synchronize, 0)
	}
	time.Sleep(50 * time.Millisecond) // let every caller read the period
	r.Unlock()
	for _, d := range dones {
		<-d
	}
	// The first caller needs one grace period; all that queued behind it
	// started before it completed and so share at most one more.
	if n := s.GracePeriods(); n > 2 {
		t.Fatalf("%d grace periods for %d overlapping callers, want <= 2", n, callers)
	}
}

// TestNewPicksFlavour: New gives the expedited flavour exactly when this
// build may store plainly and the kernel registered the process, and every
// slot follows its State.
func TestNewPicksFlavour(t *testing.T) {
	s := New(3)
	if want := plainStores && expedited(); s.expedited != want {
		t.Fatalf("New gave expedited=%v, want %v", s.expedited, want)
	}
	for i := range s.NumSlots() {
		if s.Reader(i).expedited != s.expedited {
			t.Fatalf("slot %d: expedited=%v, its State %v", i, s.Reader(i).expedited, s.expedited)
		}
	}
	t.Logf("New gives the %s flavour (plain stores allowed: %v)", flavourName(s.expedited), plainStores)
}
