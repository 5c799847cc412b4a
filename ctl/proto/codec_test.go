package proto

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"grove/errno"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		msg  any
		line string
	}{
		{"request", &Request{ID: 7, Op: OpGroupPause, Args: json.RawMessage(`{"group":3}`)},
			`{"id":7,"op":"group.pause","args":{"group":3}}`},
		{"request-noargs", &Request{ID: 1, Op: OpList}, `{"id":1,"op":"list"}`},
		{"response-ok", &Response{ID: 7, OK: true, Result: json.RawMessage(`{"count":2}`)},
			`{"id":7,"ok":true,"result":{"count":2}}`},
		{"response-ok-empty", &Response{ID: 8, OK: true}, `{"id":8,"ok":true}`},
		{"response-error", &Response{ID: 7, Error: &Error{Errno: errno.ESRCH, Name: "ESRCH", Message: "no such domain or group"}},
			`{"id":7,"ok":false,"error":{"errno":3,"name":"ESRCH","message":"no such domain or group"}}`},
		{"event", &Event{Kind: EventCrashed, Domain: 3, Group: 2, Reason: "triple fault at rip=0x1000"},
			`{"event":"crashed","domain":3,"group":2,"reason":"triple fault at rip=0x1000"}`},
		{"event-group0", &Event{Kind: EventPaused, Domain: 1}, `{"event":"paused","domain":1,"group":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := NewEncoder(&buf).Encode(tt.msg); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.line+"\n" {
				t.Fatalf("encoded %q, want %q", got, tt.line+"\n")
			}
			m, err := NewDecoder(&buf).Decode()
			if err != nil {
				t.Fatal(err)
			}
			if got := messageValue(m); !reflect.DeepEqual(got, tt.msg) {
				t.Fatalf("decoded %#v, want %#v", got, tt.msg)
			}
		})
	}
}

func messageValue(m Message) any {
	switch {
	case m.Request != nil:
		return m.Request
	case m.Response != nil:
		return m.Response
	case m.Event != nil:
		return m.Event
	}
	return nil
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ line, want string }{
		{`not json`, "invalid character"},
		{`[1,2]`, "cannot unmarshal array"},
		{`null`, "neither"},
		{`{}`, "neither"},
		{`{"id":1,"op":"list","extra":1}`, "unknown field"},
		{`{"id":1,"op":"list"} {"id":2}`, "data after"},
		{`{"op":"list"}`, `without "id"`},
		{`{"id":1,"op":""}`, `empty "op"`},
		{`{"id":1,"op":"pause","args":3}`, "not an object"},
		{`{"id":-1,"op":"list"}`, "cannot unmarshal number"},
		{`{"id":1,"op":"list","ok":true}`, "request with response"},
		{`{"ok":true}`, `response without "id"`},
		{`{"id":1,"ok":false}`, "without an errno"},
		{`{"id":1,"ok":false,"error":{"errno":0,"name":"","message":""}}`, "without an errno"},
		{`{"id":1,"ok":true,"error":{"errno":3,"name":"ESRCH","message":""}}`, `"ok":true with`},
		{`{"id":1,"ok":false,"result":{},"error":{"errno":3,"name":"","message":""}}`, `with a "result"`},
		{`{"id":1,"ok":true,"domain":3}`, "response with request or event"},
		{`{"event":"crashed"}`, `without "domain"`},
		{`{"event":"","domain":1}`, `empty "event"`},
		{`{"event":"crashed","domain":1,"id":4}`, "event with request"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := NewDecoder(strings.NewReader(tt.line + "\n")).Decode()
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != 1 {
				t.Fatalf("error %v, want a SyntaxError on line 1", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// A bad line, blank lines, CRLF and a last line without newline must all
// leave the stream readable.
func TestDecodeRecovers(t *testing.T) {
	long := strings.Repeat("x", MaxLine+10)
	in := "garbage\r\n\n  \r\n" + long + "\n" + `{"id":1,"ok":true}` + "\r\n" + `{"event":"shutdown","domain":2}`
	d := NewDecoder(strings.NewReader(in))
	var got []string
	for {
		m, err := d.Decode()
		var se *SyntaxError
		switch {
		case errors.Is(err, io.EOF):
			want := []string{"bad line 1", "bad line 4", "response 1", "event shutdown"}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
			return
		case errors.As(err, &se):
			got = append(got, "bad line "+itoa(se.Line))
		case err != nil:
			t.Fatal(err)
		case m.Response != nil:
			got = append(got, "response "+itoa(int(m.Response.ID)))
		case m.Event != nil:
			got = append(got, "event "+m.Event.Kind)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestEncodeRefusesOtherTypes(t *testing.T) {
	if err := NewEncoder(io.Discard).Encode(map[string]int{"id": 1}); err == nil {
		t.Fatal("encoded a map")
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errno.ESRCH, "no such domain or group (ESRCH)"},
		{errors.Join(errno.EBUSY), "busy (EBUSY)"},
		{&wrapped{"group 7", errno.EBUSY}, "group 7: busy (EBUSY)"},
		{errors.New("boom"), "boom (EINVAL)"},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			e := ErrorOf(tt.err)
			if e.Error() != tt.want {
				t.Fatalf("got %q, want %q", e.Error(), tt.want)
			}
			var en errno.Errno
			if !errors.As(e, &en) || en != e.Errno {
				t.Fatalf("does not unwrap to its errno %v", e.Errno)
			}
		})
	}
}

type wrapped struct {
	prefix string
	err    error
}

func (w *wrapped) Error() string { return w.prefix + ": " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

func TestDecodeArgs(t *testing.T) {
	r := Request{ID: 1, Op: OpGroupJoin, Args: json.RawMessage(`{"group":2,"domain":5}`)}
	var a JoinArgs
	if err := r.DecodeArgs(&a); err != nil || a != (JoinArgs{Group: 2, Domain: 5}) {
		t.Fatalf("got %+v, %v", a, err)
	}
	r.Args = json.RawMessage(`{"grop":2}`)
	if err := r.DecodeArgs(&a); err == nil {
		t.Fatal("accepted an unknown field")
	}
}
