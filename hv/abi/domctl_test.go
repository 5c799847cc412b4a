package abi

import (
	"bytes"
	"testing"
)

func TestCtlRoundTrip(t *testing.T) {
	c := Ctl{Cmd: DomctlPause, Version: DomctlVersion, Domain: 7}
	c.Union[0] = 0xaa
	b := c.Encode()
	if len(b) != CtlSize || b[UnionOff] != 0xaa || b[8] != 7 {
		t.Fatalf("layout: % x", b[:20])
	}
	got, ok := DecodeCtl(b)
	if !ok || got != c {
		t.Fatalf("round trip: %+v", got)
	}
	if _, ok := DecodeCtl(b[:CtlSize-1]); ok {
		t.Fatal("short struct accepted")
	}
}

func TestDomainInfoRoundTrip(t *testing.T) {
	for _, i := range []DomainInfo{
		{Domain: 3, Flags: InfoPaused, PauseCount: 2, VCPUs: 1, MemoryKB: 4096, Exits: 99, Name: "web1"},
		{Domain: 7, ExitStatus: 0xbeef, Flags: InfoShutdown | InfoExited, VCPUs: 2, MemoryKB: 131072, Name: "sieve"},
	} {
		t.Run(i.Name, func(t *testing.T) {
			b := i.Encode()
			if len(b) != InfoSize {
				t.Fatalf("size %d", len(b))
			}
			got, ok := DecodeDomainInfo(b)
			if !ok || got != i {
				t.Fatalf("round trip: %+v", got)
			}
			if i.ExitStatus != 0 && (b[2] != 0xef || b[3] != 0xbe) {
				t.Errorf("exit_status at bytes 2-3: % x", b[2:4])
			}
		})
	}
}

func FuzzDecodeCtl(f *testing.F) {
	f.Add(Ctl{Cmd: 5, Version: 1, Domain: 2}.Encode())
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := DecodeCtl(b)
		if !ok {
			return
		}
		if !bytes.Equal(c.Encode()[:10], b[:10]) {
			t.Fatalf("header does not round trip")
		}
		if i, ok := DecodeDomainInfo(c.Union[:]); ok {
			if _, ok := DecodeDomainInfo(i.Encode()); !ok {
				t.Fatal("re-encoded info does not decode")
			}
		}
	})
}
