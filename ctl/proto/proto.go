// Package proto is the wire protocol between grovectl on the host and the
// control agent in dom0: newline-delimited JSON over a serial line, one
// object per line in both directions (docs/grovectl.md).
//
// The host sends requests; the agent answers each with a response carrying
// the same id and may, once asked with events.subscribe, send events (no
// id) at any time in between. Errors carry Linux errno numbers
// (grove/errno), so errors.Is(err, errno.ESRCH) works on the host as it
// does in the hypervisor.
//
// proto owns the message types, the line codec (Encoder, Decoder) and the
// host-side Client. The codec starts no goroutines and needs nothing beyond
// an io.Reader/io.Writer, so the agent inside a guest uses it as is; proto
// must never import host-only packages.
package proto

import (
	"encoding/json"
	"errors"
	"fmt"

	"grove/errno"
)

// Operations, the "op" of a request.
const (
	OpList           = "list"             // DomainList
	OpPause          = "pause"            // DomainArgs
	OpUnpause        = "unpause"          // DomainArgs
	OpDestroy        = "destroy"          // DomainArgs
	OpGroupCreate    = "group.create"     // GroupArgs (0 = any free id, name) -> GroupID
	OpGroupDestroy   = "group.destroy"    // GroupArgs
	OpGroupJoin      = "group.join"       // JoinArgs
	OpGroupLeave     = "group.leave"      // DomainArgs
	OpGroupPause     = "group.pause"      // PauseArgs -> Count
	OpGroupUnpause   = "group.unpause"    // PauseArgs -> Count
	OpGroupInfo      = "group.info"       // GroupArgs (id or name) -> GroupInfo
	OpGroupList      = "group.list"       // ListArgs -> GroupList
	OpGroupGang      = "group.gang"       // GangArgs
	OpGroupPolicy    = "group.policy"     // PolicyArgs
	OpGroupStats     = "group.stats"      // StatsArgs -> GroupStats
	OpEventSubscribe = "events.subscribe" // no args; events follow
	OpReactionsSet   = "reactions.set"    // ReactionsArgs: the agent's standing policy
	OpChannelRing    = "channel.ring"     // no args -> RingInfo: move this client to the shared-memory rings (ring.go)
)

// Event kinds, the "event" of an event.
const (
	EventCrashed  = "crashed"
	EventShutdown = "shutdown"
	EventPaused   = "paused"
	EventUnpaused = "unpaused"
)

// Request asks the agent to do Op. Args is the op's argument object, kept
// raw so the agent decodes it into the type the op needs.
type Request struct {
	ID   uint64          `json:"id"`
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Response answers the request with the same ID: Result when OK, Error
// otherwise.
type Response struct {
	ID     uint64          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Event is an unsolicited report from the agent. Group is the domain's
// group when the event happened (0 = none).
type Event struct {
	Kind   string `json:"event"`
	Domain int    `json:"domain"`
	Group  int    `json:"group"`
	Reason string `json:"reason,omitempty"`
}

// Error is a failed operation as sent on the wire. It unwraps to its
// errno.Errno.
type Error struct {
	Errno   errno.Errno `json:"errno"`
	Name    string      `json:"name"`
	Message string      `json:"message"`
}

// Error returns e.g. "no such domain or group (ESRCH)": the agent's
// message when it sent one, the errno's own text otherwise.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Errno.Error()
	}
	return e.Message + " (" + e.Errno.Name() + ")"
}

// Unwrap makes errors.Is(err, errno.ESRCH) work.
func (e *Error) Unwrap() error { return e.Errno }

// ErrorOf converts err for the wire. Errors that are not errno values
// (a bug or a bad argument in the agent) become EINVAL with err's text,
// so the host always gets a number to act on.
func ErrorOf(err error) *Error {
	var en errno.Errno
	if !errors.As(err, &en) || en == 0 {
		return &Error{Errno: errno.EINVAL, Name: errno.EINVAL.Name(), Message: err.Error()}
	}
	return &Error{Errno: en, Name: en.Name(), Message: trimName(err.Error(), en)}
}

// trimName drops the " (ESRCH)" suffix Errno.Error adds (also at the end
// of a wrapped error's text), since Error adds it back.
func trimName(msg string, en errno.Errno) string {
	suffix := " (" + en.Name() + ")"
	if len(msg) > len(suffix) && msg[len(msg)-len(suffix):] == suffix {
		return msg[:len(msg)-len(suffix)]
	}
	return msg
}

// OK builds the successful response to id. result may be nil.
func OK(id uint64, result any) (*Response, error) {
	r := &Response{ID: id, OK: true}
	if result == nil {
		return r, nil
	}
	b, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("response %d: %w", id, err)
	}
	r.Result = b
	return r, nil
}

// Fail builds the error response to id.
func Fail(id uint64, err error) *Response {
	return &Response{ID: id, Error: ErrorOf(err)}
}

// DecodeArgs decodes a request's arguments into v, refusing unknown
// fields so a typo on the host is an EINVAL, not a silent zero.
func (r *Request) DecodeArgs(v any) error {
	if len(r.Args) == 0 {
		return nil
	}
	return strictUnmarshal(r.Args, v)
}
