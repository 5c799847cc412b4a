package hv

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"grove/domgrp"
	"grove/errno"
	"grove/hv/abi"
)

// groupHV is a hypervisor with no scheduler loop running: the caller
// (fakeVCPU's privileged dom3) and domains 4..7, running with no vCPUs, all
// registered in the group table.
func groupHV(t *testing.T) (*VCPU, *fakeMem) {
	t.Helper()
	v, m := fakeVCPU(t, true)
	h := newHypervisor(time.Millisecond, 16, 1)
	doms := []*Domain{v.dom}
	for id := DomID(4); id < 8; id++ {
		doms = append(doms, &Domain{ID: id, Name: fmt.Sprintf("dom%d", id), started: true})
	}
	for _, d := range doms {
		d.hv = h
		d.ready.Store(true)
		h.domains[d.ID] = d
		if err := h.groups.AddDomain(grpDomain{d}); err != nil {
			t.Fatal(err)
		}
	}
	return v, m
}

// groupOp runs one domctl group op with its Ctl at 0x2000 and returns the
// union it left and the errno.
func groupOp(v *VCPU, m *fakeMem, g abi.GroupArgs) (abi.GroupArgs, errno.Errno) {
	c := abi.Ctl{Cmd: abi.DomctlGroup, Version: abi.DomctlVersion}
	g.Encode(c.Union[:])
	copy(m.b[0x2000:], c.Encode())
	_, ret, _ := vmmcall(v, abi.Domctl, 0x2000)
	out, _ := abi.DecodeCtl(m.b[0x2000:])
	res, _ := abi.DecodeGroup(out.Union[:])
	return res, errno.Errno(-ret)
}

func name(s string) abi.GroupName {
	n, _ := abi.MakeGroupName(s)
	return n
}

// console runs fn and returns what the hypervisor printed meanwhile (the
// domains' "paused" lines), so the order of a group pause is seen as on
// Grove's console.
func console(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	fn()
	os.Stdout = old
	w.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

func TestGroupNamesThroughDomctl(t *testing.T) {
	v, m := groupHV(t)
	garbage := name("db")
	garbage[5] = 'x'
	for _, tc := range []struct {
		name string
		g    abi.GroupArgs
		want errno.Errno
		id   uint16
	}{
		{"create-web", abi.GroupArgs{Op: abi.GroupCreate, Name: name("web")}, 0, 1},
		{"create-web-again", abi.GroupArgs{Op: abi.GroupCreate, Name: name("web")}, errno.EEXIST, 0},
		{"create-null", abi.GroupArgs{Op: abi.GroupCreate, Group: 9, Name: name(domgrp.NullName)}, errno.EEXIST, 0},
		{"create-uppercase", abi.GroupArgs{Op: abi.GroupCreate, Name: name("Web")}, errno.EINVAL, 0},
		{"create-unpadded", abi.GroupArgs{Op: abi.GroupCreate, Name: garbage}, errno.EINVAL, 0},
		{"create-unnamed", abi.GroupArgs{Op: abi.GroupCreate, Group: 5}, 0, 5},
		{"info-by-name", abi.GroupArgs{Op: abi.GroupGetInfo, Group: 5, Name: name("web")}, 0, 1},
		{"info-null", abi.GroupArgs{Op: abi.GroupGetInfo, Name: name("null")}, 0, 0},
		{"info-unknown-name", abi.GroupArgs{Op: abi.GroupGetInfo, Name: name("mail")}, errno.ESRCH, 0},
		{"info-unpadded", abi.GroupArgs{Op: abi.GroupGetInfo, Name: garbage}, errno.EINVAL, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := groupOp(v, m, tc.g)
			if err != tc.want {
				t.Fatalf("errno %v, want %v", err, tc.want)
			}
			id := res.Group
			if tc.g.Op == abi.GroupGetInfo {
				id = res.Info.ID
			}
			if err == 0 && id != tc.id {
				t.Fatalf("group %d, want %d", id, tc.id)
			}
		})
	}
	for id, want := range map[uint16]string{0: "null", 1: "web", 5: ""} {
		if res, _ := groupOp(v, m, abi.GroupArgs{Op: abi.GroupGetInfo, Group: id}); res.Name.String() != want {
			t.Errorf("group %d named %q, want %q", id, res.Name.String(), want)
		}
	}
}

// The order is copied in from the caller's memory; the members are paused
// in it, then the rest in join order, as one group pause; unpause walks it
// backwards. Bad orders change nothing.
func TestOrderedGroupPauseThroughDomctl(t *testing.T) {
	v, m := groupHV(t)
	groupOp(v, m, abi.GroupArgs{Op: abi.GroupCreate, Group: 1, Name: name("web")})
	for id := uint16(4); id < 8; id++ {
		if _, err := groupOp(v, m, abi.GroupArgs{Op: abi.GroupJoin, Group: 1, Domain: id}); err != 0 {
			t.Fatalf("join %d: %v", id, err)
		}
	}
	copy(m.b[0x3000:], abi.EncodeGroupIDs([]uint16{6, 4}))
	copy(m.b[0x3100:], abi.EncodeGroupIDs([]uint16{4, 3}))
	for _, tc := range []struct {
		name string
		arg  uint32
		buf  uint64
		want errno.Errno
	}{
		{"bad-pointer", 2, 0xfffe, errno.EFAULT},
		{"too-long", abi.GroupOrderMax + 1, 0x3000, errno.EINVAL},
		{"non-member", 2, 0x3100, errno.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := groupOp(v, m, abi.GroupArgs{Op: abi.GroupPause, Group: 1, Arg: tc.arg, Buffer: tc.buf}); err != tc.want {
				t.Fatalf("errno %v, want %v", err, tc.want)
			}
			if res, _ := groupOp(v, m, abi.GroupArgs{Op: abi.GroupGetInfo, Group: 1}); res.Info.Pauses != 0 {
				t.Fatalf("a refused pause paused the group: %+v", res.Info)
			}
		})
	}
	var res abi.GroupArgs
	var err errno.Errno
	log := console(t, func() {
		res, err = groupOp(v, m, abi.GroupArgs{Op: abi.GroupPause, Group: 1, Arg: 2, Buffer: 0x3000})
	})
	if want := "(d6) paused\n(d4) paused\n(d5) paused\n(d7) paused\n"; err != 0 || res.Arg != 4 || log != want {
		t.Fatalf("pause: errno %v, %d members, console:\n%swant:\n%s", err, res.Arg, log, want)
	}
	info, _ := groupOp(v, m, abi.GroupArgs{Op: abi.GroupGetInfo, Group: 1})
	if info.Info.Flags != abi.GroupFlagPaused || info.Info.Pauses != 1 {
		t.Fatalf("an ordered pause is one group pause: %+v", info.Info)
	}
	log = console(t, func() { res, err = groupOp(v, m, abi.GroupArgs{Op: abi.GroupUnpause, Group: 1}) })
	if want := "(d7) unpaused\n(d5) unpaused\n(d4) unpaused\n(d6) unpaused\n"; err != 0 || res.Arg != 4 || log != want {
		t.Fatalf("unpause: errno %v, %d members, console:\n%swant:\n%s", err, res.Arg, log, want)
	}
	if strings.Contains(log, "d3") {
		t.Fatal("the caller was touched")
	}
}
