package proto

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// MaxLine bounds one message. A serial line has no framing beyond the
// newline, so a peer that never sends one must not grow our memory.
const MaxLine = 1 << 20

// Message is one decoded line: exactly one field is set.
type Message struct {
	Request  *Request
	Response *Response
	Event    *Event
}

// Encoder writes messages, one line each. Each message goes out in a
// single Write under a mutex, so an agent may send events from one
// goroutine and responses from another without interleaving lines.
type Encoder struct {
	mu sync.Mutex
	w  io.Writer
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes m, which must be a Request, Response or Event (value or
// pointer).
func (e *Encoder) Encode(m any) error {
	switch m.(type) {
	case Request, *Request, Response, *Response, Event, *Event:
	default:
		return fmt.Errorf("proto: cannot encode %T", m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("proto: %w", err)
	}
	if len(b) >= MaxLine {
		return fmt.Errorf("proto: message of %d bytes exceeds %d", len(b), MaxLine)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.w.Write(append(b, '\n'))
	return err
}

// SyntaxError is a line that is not a valid message. The decoder has
// consumed the line and the next Decode reads the one after it: a serial
// line can carry noise (boot messages, a half line after a reset), which
// must not end the session.
type SyntaxError struct {
	Line int    // 1-based line number in the stream
	Text string // the line, cut to 80 bytes
	Err  error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d: bad message %q: %v", e.Line, e.Text, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Decoder reads messages, one per line. It reads ahead through a
// bufio.Reader, so the stream must not be shared with other readers.
type Decoder struct {
	r    *bufio.Reader
	line int
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 4096)}
}

// Decode returns the next message. Blank lines are skipped. A bad line
// gives a *SyntaxError and the stream stays usable; any other error (io.EOF
// at the end) comes from the reader and is final.
func (d *Decoder) Decode() (Message, error) {
	for {
		line, err := d.readLine()
		if err != nil {
			return Message{}, err
		}
		d.line++
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := Parse(line)
		if err != nil {
			return Message{}, &SyntaxError{Line: d.line, Text: cut(line, 80), Err: err}
		}
		return m, nil
	}
}

var errTooLong = errors.New("line too long")

// readLine returns the next line without its newline. An overlong line is
// read to its end and dropped, as a SyntaxError. A last line without a
// newline counts (the peer closed after writing it).
func (d *Decoder) readLine() ([]byte, error) {
	var buf []byte
	over := false
	for {
		chunk, err := d.r.ReadSlice('\n')
		if !over && len(buf)+len(chunk) <= MaxLine+1 { // +1: the newline
			buf = append(buf, chunk...)
		} else {
			over, buf = true, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !(errors.Is(err, io.EOF) && (len(buf) > 0 || over)) {
			return nil, err
		}
		if over {
			d.line++
			return nil, &SyntaxError{Line: d.line, Err: errTooLong}
		}
		return bytes.TrimSuffix(buf, []byte("\n")), nil
	}
}

func cut(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
