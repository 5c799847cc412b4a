package proto

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary streams to the decoder: it must not panic,
// must only fail with SyntaxError or the reader's end, and every message it
// accepts must encode to a line that decodes to the same message.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":7,"op":"group.pause","args":{"group":3}}` + "\n"))
	f.Add([]byte(`{"id":7,"ok":false,"error":{"errno":3,"name":"ESRCH","message":"x"}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data))
		for range 1000 {
			m, err := d.Decode()
			var se *SyntaxError
			if errors.As(err, &se) {
				continue
			}
			if err != nil {
				return
			}
			checkReencode(t, m)
		}
	})
}

func checkReencode(t *testing.T, m Message) {
	var first bytes.Buffer
	if err := NewEncoder(&first).Encode(messageValue(m)); err != nil {
		t.Fatalf("encode %#v: %v", messageValue(m), err)
	}
	m2, err := NewDecoder(bytes.NewReader(first.Bytes())).Decode()
	if err != nil {
		t.Fatalf("decode of our own %q: %v", first.Bytes(), err)
	}
	var second bytes.Buffer
	if err := NewEncoder(&second).Encode(messageValue(m2)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("not stable: %q then %q", first.Bytes(), second.Bytes())
	}
}
