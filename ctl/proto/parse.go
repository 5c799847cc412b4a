package proto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// envelope is any message as written: pointers tell a missing key from a
// zero, so Parse can tell the three kinds apart and refuse mixtures.
type envelope struct {
	ID     *uint64         `json:"id"`
	Op     *string         `json:"op"`
	Args   json.RawMessage `json:"args"`
	OK     *bool           `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
	Event  *string         `json:"event"`
	Domain *int            `json:"domain"`
	Group  *int            `json:"group"`
	Reason *string         `json:"reason"`
}

// Parse decodes one line (without its newline) into a message.
func Parse(line []byte) (Message, error) {
	var env envelope
	if err := strictUnmarshal(line, &env); err != nil {
		return Message{}, err
	}
	switch {
	case env.Event != nil:
		return env.event()
	case env.Op != nil:
		return env.request()
	case env.OK != nil:
		return env.response()
	}
	return Message{}, errors.New(`neither a request ("op"), a response ("ok") nor an event ("event")`)
}

func (env *envelope) request() (Message, error) {
	if env.OK != nil || env.Result != nil || env.Error != nil || env.eventFields() {
		return Message{}, errors.New("request with response or event fields")
	}
	if env.ID == nil {
		return Message{}, errors.New(`request without "id"`)
	}
	if *env.Op == "" {
		return Message{}, errors.New(`empty "op"`)
	}
	if err := objectOrNull(env.Args, "args"); err != nil {
		return Message{}, err
	}
	args := env.Args
	if isNull(args) {
		args = nil
	}
	return Message{Request: &Request{ID: *env.ID, Op: *env.Op, Args: args}}, nil
}

func (env *envelope) response() (Message, error) {
	if env.Args != nil || env.eventFields() {
		return Message{}, errors.New("response with request or event fields")
	}
	if env.ID == nil {
		return Message{}, errors.New(`response without "id"`)
	}
	r := &Response{ID: *env.ID, OK: *env.OK, Error: env.Error}
	if !isNull(env.Result) {
		r.Result = env.Result
	}
	switch {
	case r.OK && r.Error != nil:
		return Message{}, errors.New(`"ok":true with an "error"`)
	case !r.OK && (r.Error == nil || r.Error.Errno == 0):
		return Message{}, errors.New(`"ok":false without an errno`)
	case !r.OK && r.Result != nil:
		return Message{}, errors.New(`"ok":false with a "result"`)
	}
	return Message{Response: r}, nil
}

func (env *envelope) event() (Message, error) {
	if env.ID != nil || env.Op != nil || env.Args != nil || env.OK != nil ||
		env.Result != nil || env.Error != nil {
		return Message{}, errors.New("event with request or response fields")
	}
	if *env.Event == "" {
		return Message{}, errors.New(`empty "event"`)
	}
	if env.Domain == nil {
		return Message{}, errors.New(`event without "domain"`)
	}
	ev := &Event{Kind: *env.Event, Domain: *env.Domain}
	if env.Group != nil {
		ev.Group = *env.Group
	}
	if env.Reason != nil {
		ev.Reason = *env.Reason
	}
	return Message{Event: ev}, nil
}

func (env *envelope) eventFields() bool {
	return env.Event != nil || env.Domain != nil || env.Group != nil || env.Reason != nil
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(raw, []byte("null"))
}

func objectOrNull(raw json.RawMessage, field string) error {
	if isNull(raw) || raw[0] == '{' {
		return nil
	}
	return fmt.Errorf("%q is not an object", field)
}

// strictUnmarshal decodes exactly one JSON value into v, refusing unknown
// fields and trailing data: both sides are built from this package, so a
// field either side does not know is a bug worth hearing about.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}
