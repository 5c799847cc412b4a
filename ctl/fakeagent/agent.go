// Package fakeagent is an in-process stand-in for the dom0 control agent:
// it speaks ctl/proto over any connection and keeps domains and groups in
// memory with the semantics and errno values of docs/groups.md, so
// grovectl is tested end to end without booting Grove.
//
// It models what the host can observe (ids, members in join order, pause
// counts, gang flags, a group's policy and whether its gang fits the
// CPUs), not scheduling: the scheduling counters are what tests set; it must never be linked into the
// real agent.
package fakeagent

import (
	"errors"
	"io"
	"slices"
	"sync"

	"grove/ctl/proto"
	"grove/domgrp"
	"grove/errno"
)

// Table limits, as the hypervisor's defaults.
const (
	MaxGroups = 256 // including the null group
	MaxPauses = 255
)

// Agent is the fake agent. Its methods may be called while it serves.
type Agent struct {
	mu        sync.Mutex
	domains   map[int]*domain
	groups    map[int]*group
	calls     []string
	enc       *proto.Encoder // of the subscribed connection, nil before
	reactions []proto.Reaction
	cpus      int              // for the E2BIG check of gangs
	faults    map[string]Fault // per op, set by tests (faults.go)
}

type domain struct {
	info        proto.DomainInfo
	gang        bool
	vcpus       int
	groupPauses int // pauses the current group holds on it
}

type group struct {
	name    string
	members []int // join order
	order   []int // recorded by the pause that took pauses from 0
	pauses  int
	policy  int   // hv/abi's number
	skewNS  int64 // relaxed's bound
	stats   proto.GroupStats
}

// New returns an agent with dom0 and no groups but the null group.
func New() *Agent {
	a := &Agent{domains: map[int]*domain{}, groups: map[int]*group{0: {name: domgrp.NullName}}, cpus: DefaultCPUs}
	a.AddDomain(0, "dom0", 64)
	return a
}

// AddDomain registers a running domain in the null group.
func (a *Agent) AddDomain(id int, name string, memoryMB int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.domains[id] = &domain{info: proto.DomainInfo{ID: id, Name: name, State: "running", MemoryMB: memoryMB}, vcpus: 1}
	a.groups[0].members = append(a.groups[0].members, id)
}

// Serve answers requests on conn until it ends. A subscribe makes conn the
// target of Emit.
func (a *Agent) Serve(conn io.ReadWriter) error {
	dec, enc := proto.NewDecoder(conn), proto.NewEncoder(conn)
	for {
		m, err := dec.Decode()
		var se *proto.SyntaxError
		switch {
		case errors.As(err, &se):
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		case m.Request == nil:
			continue
		}
		switch a.fault(m.Request.Op).Kind {
		case HangUp:
			return nil
		case Silent:
			continue
		}
		if err := enc.Encode(a.handle(m.Request, enc)); err != nil {
			return err
		}
	}
}

// Emit sends ev to the subscribed connection, if any, and reports whether
// it did.
func (a *Agent) Emit(ev proto.Event) bool {
	a.mu.Lock()
	enc := a.enc
	a.mu.Unlock()
	return enc != nil && enc.Encode(&ev) == nil
}

// Subscribed reports whether a client has asked for events.
func (a *Agent) Subscribed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.enc != nil
}

// Calls returns the ops received so far, e.g. "pause 3", "group.join 2 5".
func (a *Agent) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// Domain returns a domain's state and gang flag.
func (a *Agent) Domain(id int) (proto.DomainInfo, bool, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.domains[id]
	if !ok {
		return proto.DomainInfo{}, false, false
	}
	return d.info, d.gang, true
}

// Group returns a group's info.
func (a *Agent) Group(id int) (proto.GroupInfo, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	info, err := a.groupInfoLocked(id)
	return info, err == nil
}

// Crash marks a domain crashed, as the hypervisor would before reporting
// it.
func (a *Agent) Crash(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.domains[id]; ok {
		d.info.State = "crashed"
	}
}

// Exit marks a domain shut down through its exit port with status, as the
// hypervisor reports a test kernel that ended.
func (a *Agent) Exit(id, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.domains[id]; ok {
		d.info.State, d.info.ExitStatus = "shutdown", &status
	}
}

// handle runs one request under mu.
func (a *Agent) handle(req *proto.Request, enc *proto.Encoder) *proto.Response {
	a.mu.Lock()
	defer a.mu.Unlock()
	op, ok := ops[req.Op]
	if !ok {
		a.calls = append(a.calls, req.Op)
		return proto.Fail(req.ID, errno.ENOSYS)
	}
	var args args
	if err := req.DecodeArgs(&args); err != nil {
		return proto.Fail(req.ID, errno.EINVAL)
	}
	a.calls = append(a.calls, args.log(req.Op))
	if f := a.faults[req.Op]; f.Kind == Refuse {
		return proto.Fail(req.ID, f.Errno)
	}
	if req.Op == proto.OpEventSubscribe {
		a.enc = enc
	}
	result, err := op(a, args)
	if err != nil {
		return proto.Fail(req.ID, err)
	}
	resp, err := proto.OK(req.ID, result)
	if err != nil {
		return proto.Fail(req.ID, err)
	}
	return resp
}
