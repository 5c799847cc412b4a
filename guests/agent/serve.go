//go:build groveguest

package main

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"grove/ctl/proto"
	"grove/errno"
	"grove/hv/abi"
	"grove/kernel"
)

// The host channel: requests from grovectl arrive as JSON lines on the
// second serial port (COM2, which the hypervisor passes through to dom0 and
// QEMU exposes as a socket; serial.go); responses and events go back the
// same way.

// subscriber is where events go: the encoder of the channel (serial line
// or ring) whose host subscribed; nil: nowhere.
var subscriber atomic.Pointer[proto.Encoder]

// answerMu lets one request at a time through, whichever channel it came
// by (a ring reset must not meet an answer half-written to the ring).
var answerMu sync.Mutex

// serve answers requests from in, and from the ring when there is one,
// forever; events go out with them.
func serve(in *serialReader, shm *hostRing) {
	go watchEvents(in.poll)
	if shm != nil {
		go shm.serve(in.timing)
	}
	serveFrom(proto.NewDecoder(in), proto.NewEncoder(serialWriter{fifo: !in.poll}), in.timing, in, shm)
}

// serveFrom answers the requests dec reads with enc until dec fails. in is
// the serial line's reader (for its timing), nil for the ring; shm is the
// ring a serial host may ask for.
func serveFrom(dec *proto.Decoder, enc *proto.Encoder, timing bool, in *serialReader, shm *hostRing) {
	for {
		m, err := dec.Decode()
		var se *proto.SyntaxError
		switch {
		case errors.As(err, &se):
			fmt.Println("agent: bad request line:", err)
			continue
		case errors.Is(err, errReset):
			return
		case err != nil:
			fmt.Println("agent: host channel:", err)
			return
		case m.Request == nil:
			continue
		}
		answerMu.Lock()
		t1 := kernel.Nanotime()
		var resp *proto.Response
		switch m.Request.Op {
		case proto.OpEventSubscribe:
			subscriber.Store(enc)
			resp = answer(m.Request)
		case proto.OpChannelRing:
			if in == nil {
				resp = proto.Fail(m.Request.ID, fmt.Errorf("%s: ask on the serial line: %w", m.Request.Op, errno.EINVAL))
				break
			}
			info, err := shm.reset()
			if err == nil {
				in.setTrigger(true) // doorbells from now on
			}
			resp = respond(m.Request.ID, info, err)
		default:
			resp = answer(m.Request)
		}
		t2 := kernel.Nanotime()
		enc.Encode(resp)
		t3 := kernel.Nanotime()
		answerMu.Unlock()
		if !timing {
			continue
		}
		// The request's line from its first bytes read to its end (0: it
		// came in one read with the line before), or from the ring's
		// doorbell to the request read; the answer; and its writing out;
		// printed after, so not counted.
		var recv int64
		switch {
		case in != nil && in.lineAt != 0:
			recv = t1 - in.lineAt
			in.lineAt = 0
		case in == nil:
			recv = t1 - shm.bellAt.Load() // from its doorbell
		}
		fmt.Printf("agent: timing %s: receive %d µs, answer %d µs, send %d µs\n",
			m.Request.Op, recv/1000, (t2-t1)/1000, (t3-t2)/1000)
	}
}

func answer(req *proto.Request) *proto.Response {
	result, err := handle(req)
	return respond(req.ID, result, err)
}

func respond(id uint64, result any, err error) *proto.Response {
	if err != nil {
		return proto.Fail(id, err)
	}
	resp, err := proto.OK(id, result)
	if err != nil {
		return proto.Fail(id, err)
	}
	return resp
}

// handle runs one operation through domctl.
func handle(req *proto.Request) (any, error) {
	var d proto.DomainArgs
	var g proto.GroupArgs
	switch req.Op {
	case proto.OpList:
		return listAll()
	case proto.OpPause, proto.OpUnpause, proto.OpDestroy:
		if err := req.DecodeArgs(&d); err != nil {
			return nil, err
		}
		cmd := map[string]uint32{proto.OpPause: abi.DomctlPause, proto.OpUnpause: abi.DomctlUnpause,
			proto.OpDestroy: abi.DomctlDestroy}[req.Op]
		return nil, ctl(cmd, uint16(d.Domain))
	case proto.OpGroupCreate:
		if err := req.DecodeArgs(&g); err != nil {
			return nil, err
		}
		return groupCreate(g)
	case proto.OpGroupDestroy:
		if err := req.DecodeArgs(&g); err != nil {
			return nil, err
		}
		_, err := group(abi.GroupDestroy, abi.GroupArgs{Group: uint16(g.Group)})
		return nil, err
	case proto.OpGroupPause, proto.OpGroupUnpause:
		var p proto.PauseArgs
		if err := req.DecodeArgs(&p); err != nil {
			return nil, err
		}
		op := map[string]uint32{proto.OpGroupPause: abi.GroupPause, proto.OpGroupUnpause: abi.GroupUnpause}[req.Op]
		return groupPause(op, p)
	case proto.OpGroupInfo:
		if err := req.DecodeArgs(&g); err != nil {
			return nil, err
		}
		return groupInfoOf(g)
	}
	return handleMore(req)
}

func handleMore(req *proto.Request) (any, error) {
	switch req.Op {
	case proto.OpGroupJoin:
		var j proto.JoinArgs
		if err := req.DecodeArgs(&j); err != nil {
			return nil, err
		}
		_, err := group(abi.GroupJoin, abi.GroupArgs{Group: uint16(j.Group), Domain: uint16(j.Domain)})
		return nil, err
	case proto.OpGroupLeave:
		var d proto.DomainArgs
		if err := req.DecodeArgs(&d); err != nil {
			return nil, err
		}
		_, err := group(abi.GroupLeave, abi.GroupArgs{Domain: uint16(d.Domain)})
		return nil, err
	case proto.OpGroupGang:
		var a proto.GangArgs
		if err := req.DecodeArgs(&a); err != nil {
			return nil, err
		}
		on := uint32(0)
		if a.Gang {
			on = 1
		}
		_, err := group(abi.GroupSetGang, abi.GroupArgs{Domain: uint16(a.Domain), Arg: on})
		return nil, err
	case proto.OpGroupList:
		var l proto.ListArgs
		if err := req.DecodeArgs(&l); err != nil {
			return nil, err
		}
		ids, err := groupList()
		out := proto.GroupList{Groups: []int{}}
		for _, id := range ids {
			if int(id) >= l.Start && (l.Max <= 0 || len(out.Groups) < l.Max) {
				out.Groups = append(out.Groups, int(id))
			}
		}
		return out, err
	case proto.OpEventSubscribe: // serveFrom noted the channel
		return nil, nil
	case proto.OpReactionsSet:
		var ra proto.ReactionsArgs
		if err := req.DecodeArgs(&ra); err != nil {
			return nil, err
		}
		return nil, setReactions(ra.Reactions)
	case proto.OpGroupPolicy, proto.OpGroupStats:
		return handleSched(req)
	}
	return nil, fmt.Errorf("unknown op %q: %w", req.Op, errno.EINVAL)
}

// groupInfo is group id's getinfo without member details (groupInfoOf).
func groupInfo(id int) (proto.GroupInfo, error) {
	res, err := group(abi.GroupGetInfo, abi.GroupArgs{Group: uint16(id)})
	if err != nil {
		return proto.GroupInfo{}, err
	}
	return infoOf(res), nil
}

// listAll is list: every domain with its group.
func listAll() (proto.DomainList, error) {
	infos, err := domains()
	if err != nil {
		return proto.DomainList{}, err
	}
	groupOf := map[int]int{}
	if ids, err := groupList(); err == nil {
		for _, id := range ids {
			if gi, err := groupInfo(int(id)); err == nil {
				for _, m := range gi.Members {
					groupOf[m] = int(id)
				}
			}
		}
	}
	out := proto.DomainList{Domains: []proto.DomainInfo{}}
	for _, i := range infos {
		d := proto.DomainInfo{ID: int(i.Domain), Name: i.Name,
			State: stateName(i.Flags), Group: groupOf[int(i.Domain)], PauseCount: int(i.PauseCount),
			MemoryMB: int(i.MemoryKB >> 10)}
		if i.Flags&abi.InfoExited != 0 {
			status := int(i.ExitStatus)
			d.ExitStatus = &status
		}
		out.Domains = append(out.Domains, d)
	}
	return out, nil
}

func stateName(flags uint32) string {
	for _, s := range []struct {
		bit  uint32
		name string
	}{{abi.InfoCrashed, "crashed"}, {abi.InfoShutdown, "shutdown"}, {abi.InfoDying, "dying"},
		{abi.InfoPaused, "paused"}, {abi.InfoRunning, "running"}} {
		if flags&s.bit != 0 {
			return s.name
		}
	}
	return "unknown"
}

var _ io.Reader = (*serialReader)(nil)
