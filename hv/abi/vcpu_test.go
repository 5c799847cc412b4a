package abi

import (
	"bytes"
	"errors"
	"testing"

	"grove/errno"
)

func goodContext() VCPUContext {
	return VCPUContext{Mode: VCPUMode64, RIP: 0x200000, RSP: 0x7000, RFLAGS: 2,
		CR0: 0x80000033, CR3: 0x1000, CR4: 0x620, EFER: 0xd01}
}

func TestVCPUContextLayout(t *testing.T) {
	c := goodContext()
	c.RDI, c.RSI, c.RBX, c.FSBase, c.GSBase = 0x11, 0x22, 0x33, 0x44, 0x55
	b := c.Encode()
	if len(b) != VCPUContextSize {
		t.Fatalf("size %d", len(b))
	}
	for _, tc := range []struct {
		name string
		off  int
		want byte
	}{{"mode", 0, 1}, {"rip", 10, 0x20}, {"rsp", 17, 0x70}, {"rdi", 24, 0x11}, {"rsi", 32, 0x22},
		{"rbx", 40, 0x33}, {"rflags", 48, 2}, {"cr0", 59, 0x80}, {"cr3", 65, 0x10},
		{"cr4", 73, 0x06}, {"efer", 80, 0x01}, {"fs_base", 88, 0x44}, {"gs_base", 96, 0x55}} {
		t.Run(tc.name, func(t *testing.T) {
			if b[tc.off] != tc.want {
				t.Fatalf("byte %d = %#x, want %#x", tc.off, b[tc.off], tc.want)
			}
		})
	}
	got, ok := DecodeVCPUContext(b)
	if !ok || got != c {
		t.Fatalf("round trip: %+v", got)
	}
	if _, ok := DecodeVCPUContext(b[:VCPUContextSize-1]); ok {
		t.Fatal("short context accepted")
	}
}

func TestVCPUContextValidate(t *testing.T) {
	if f, err := goodContext().Validate(); err != nil {
		t.Fatalf("good context refused: %s %v", f, err)
	}
	for _, tc := range []struct {
		field string
		bad   func(*VCPUContext)
	}{
		{"mode", func(c *VCPUContext) { c.Mode = 0 }},
		{"flags or reserved bytes", func(c *VCPUContext) { c.Flags = 1 }},
		{"flags or reserved bytes", func(c *VCPUContext) { c.reserved[3] = 1 }},
		{"rip", func(c *VCPUContext) { c.RIP = 0x0000_8000_0000_0000 }},
		{"rsp", func(c *VCPUContext) { c.RSP = 0xffff_0000_0000_0000 }},
		{"rflags", func(c *VCPUContext) { c.RFLAGS = 0 }},
		{"cr0", func(c *VCPUContext) { c.CR0 = 1 }},
		{"cr4", func(c *VCPUContext) { c.CR4 = 0 }},
		{"cr4", func(c *VCPUContext) { c.CR4 |= 1 << 12 }},
		{"efer", func(c *VCPUContext) { c.EFER = 0 }},
		{"efer", func(c *VCPUContext) { c.EFER |= 1 << 12 }},
		{"cr3", func(c *VCPUContext) { c.CR3 = 1 << 63 }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			c := goodContext()
			tc.bad(&c)
			f, err := c.Validate()
			if f != tc.field || !errors.Is(err, errno.EINVAL) {
				t.Fatalf("Validate = %q, %v; want %q, EINVAL", f, err, tc.field)
			}
		})
	}
	if !canonical(0xffff_8000_0000_0000) || canonical(0x0000_8000_0000_0000) {
		t.Fatal("canonical check wrong")
	}
}

func FuzzDecodeVCPUContext(f *testing.F) {
	f.Add(goodContext().Encode())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := DecodeVCPUContext(b)
		if !ok {
			return
		}
		if !bytes.Equal(c.Encode(), b[:VCPUContextSize]) {
			t.Fatal("decode/encode changed the context")
		}
		if f, err := c.Validate(); (err == nil) != (f == "") {
			t.Fatalf("Validate: field %q with error %v", f, err)
		}
	})
}
