package ring

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
)

func region(t testing.TB, size int) []byte {
	t.Helper()
	// Page-aligned like the mapped BAR and file (the indices are atomics).
	buf := make([]uint64, size/8)
	return unsafeBytes(buf)
}

func TestLayout(t *testing.T) {
	for _, c := range []struct{ total, ring int }{
		{MinSize, 4096}, {1 << 20, 256 << 10}, {1<<20 + 4096, 512 << 10}, {64 << 10, 16 << 10},
	} {
		mem := region(t, c.total)
		r, err := Init(mem)
		if err != nil {
			t.Fatal(err)
		}
		if r.Size() != c.ring {
			t.Errorf("region of %d: ring size %d, want %d", c.total, r.Size(), c.ring)
		}
		o, err := Open(mem)
		if err != nil || o.Size() != c.ring {
			t.Errorf("Open after Init: %v, size %d", err, o.Size())
		}
	}
	if _, err := Init(region(t, MinSize-8)); err == nil {
		t.Error("Init of a too small region succeeded")
	}
}

func TestOpenRefuses(t *testing.T) {
	fresh := func() []byte { m := region(t, 64<<10); Init(m); return m }
	for name, spoil := range map[string]func([]byte){
		"zeroes":         func(m []byte) { clear(m[:16]) },
		"version":        func(m []byte) { m[8] = 2 },
		"size too big":   func(m []byte) { m[12], m[13], m[14] = 0, 0, 1 },
		"size not pow2":  func(m []byte) { m[12], m[13] = 0, 0x30 },
		"size too small": func(m []byte) { m[12], m[13], m[14] = 0, 4, 0 },
	} {
		m := fresh()
		spoil(m)
		if _, err := Open(m); err == nil {
			t.Errorf("%s: Open succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestFullEmptyWrap fills, drains and wraps one ring against a model.
func TestFullEmptyWrap(t *testing.T) {
	r, _ := Init(region(t, MinSize))
	q := r.ToHost()
	var model []byte
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		if rng.IntN(2) == 0 {
			p := make([]byte, rng.IntN(3000))
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
			n := q.Write(p)
			if want := min(len(p), r.Size()-len(model)); n != want {
				t.Fatalf("step %d: wrote %d, want %d", i, n, want)
			}
			model = append(model, p[:n]...)
		} else {
			p := make([]byte, rng.IntN(3000))
			n := q.Read(p)
			if want := min(len(p), len(model)); n != want || !bytes.Equal(p[:n], model[:n]) {
				t.Fatalf("step %d: read %d bytes, want %d of the model", i, n, want)
			}
			model = model[n:]
		}
		if q.Len() != len(model) {
			t.Fatalf("step %d: Len %d, model %d", i, q.Len(), len(model))
		}
	}
}

// TestStream runs a producer and a consumer on the two rings at once (run
// with -race): every byte arrives, in order.
func TestStream(t *testing.T) {
	r, _ := Init(region(t, MinSize))
	const total = 1 << 20
	var wg sync.WaitGroup
	for _, q := range []*Ring{r.ToGuest(), r.ToHost()} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for sent := 0; sent < total; {
				p := make([]byte, min(777, total-sent))
				for i := range p {
					p[i] = byte(sent + i)
				}
				for off := 0; off < len(p); {
					off += q.Write(p[off:])
				}
				sent += len(p)
			}
		}()
		go func() {
			defer wg.Done()
			p := make([]byte, 1000)
			for got := 0; got < total; {
				n := q.Read(p)
				for i := 0; i < n; i++ {
					if p[i] != byte(got+i) {
						t.Errorf("byte %d is %d", got+i, p[i])
						return
					}
				}
				got += n
			}
		}()
	}
	wg.Wait()
}

// TestCorruptIndices: a head far ahead of the tail reads as full and is
// never written over.
func TestCorruptIndices(t *testing.T) {
	mem := region(t, MinSize)
	r, _ := Init(mem)
	q := r.ToGuest()
	*q.head = 1 << 30
	if n := q.Write([]byte("x")); n != 0 {
		t.Errorf("write into a corrupt ring: %d bytes", n)
	}
	if q.Len() != r.Size() {
		t.Errorf("Len %d, want the ring's size", q.Len())
	}
	p := make([]byte, 2*r.Size())
	if n := q.Read(p); n != r.Size() {
		t.Errorf("read %d from a corrupt ring, want at most its size", n)
	}
}

func FuzzOpen(f *testing.F) {
	m := region(f, MinSize)
	Init(m)
	f.Add(append([]byte(nil), m[:64]...))
	f.Fuzz(func(t *testing.T, head []byte) {
		mem := region(t, MinSize)
		copy(mem, head)
		r, err := Open(mem)
		if err != nil {
			return
		}
		q := r.ToHost()
		q.Write([]byte("hello"))
		q.Read(make([]byte, 8))
	})
}

func TestStripDoorbells(t *testing.T) {
	for _, c := range []struct {
		in, out string
		bells   int
	}{
		{"", "", 0}, {"\x01", "", 1}, {"{}\n", "{}\n", 0}, {"\x01{\x01}\n\x01\x01", "{}\n", 4},
	} {
		p := []byte(c.in)
		n, bells := StripDoorbells(p)
		if string(p[:n]) != c.out || bells != c.bells {
			t.Errorf("%q: %q and %d doorbells, want %q and %d", c.in, p[:n], bells, c.out, c.bells)
		}
	}
}
