package fakeagent

import "grove/errno"

// Faults make the agent fail one op on purpose, so tests reach every error
// path of a client: a refusal with an errno, a hang-up, or silence (the
// client's deadline then ends the call).

// FaultKind is how an op fails.
type FaultKind int

const (
	NoFault FaultKind = iota
	Refuse            // answer with Fault.Errno
	HangUp            // end the connection when the request arrives
	Silent            // read the request and never answer
)

// Fault is how every later request for one op fails.
type Fault struct {
	Kind  FaultKind
	Errno errno.Errno // for Refuse
}

// SetFault makes every later request for op fail as f (NoFault: answer
// again).
func (a *Agent) SetFault(op string, f Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.faults == nil {
		a.faults = map[string]Fault{}
	}
	a.faults[op] = f
}

func (a *Agent) fault(op string) Fault {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.faults[op]
}
