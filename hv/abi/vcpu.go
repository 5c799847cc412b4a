package abi

import (
	"encoding/binary"

	"grove/errno"
	"grove/x86"
)

// vcpu_op (number 24, after Xen's VCPUOP_*): a guest brings up its own
// secondary vCPUs. vcpu_op(cmd, vcpu, arg):
//
//	cmd             vcpu    arg                      result / errors
//	0 initialise    target  GVA of a VCPUContext     0; ENOENT no such vCPU, EEXIST already
//	                                                 initialised, EINVAL bad context, EFAULT
//	1 up            target  -                        0 (also if already up); ENOENT, EINVAL
//	                                                 not initialised
//	2 down          target  -                        0; ENOENT (down self: returns once it
//	                                                 is brought up again, like Xen's)
//	3 is_up         target  -                        1 up, 0 down; ENOENT
//	0x1000 send_ipi target  vector (32..255)         0; ENOENT, EINVAL bad vector (Grove)
//
// vCPU 0 starts at the image's entry; the others start down and
// uninitialised. send_ipi raises an interrupt on another vCPU of the same
// domain (Grove's guests have no virtual APIC yet): a blocked vCPU wakes, a
// running one is kicked off its CPU so it takes the interrupt at once.
//
// VCPUContext (128 bytes, all IN) is a 64-bit start state: the vCPU starts
// in long mode with flat selectors 0x08 (64-bit code) and 0x10 (data), the
// guest loads its own GDT afterwards.
//
//	offset size field
//	0      4    mode: VCPUMode64 (the only mode)
//	4      4    flags: 0
//	8      8    rip (canonical)
//	16     8    rsp (canonical)
//	24     8    rdi
//	32     8    rsi
//	40     8    rbx
//	48     8    rflags (bit 1 set; IF, DF, ... as the guest wants)
//	56     8    cr0 (PE and PG set)
//	64     8    cr3
//	72     8    cr4 (PAE set)
//	80     8    efer (LME set; LMA is set for the guest)
//	88     8    fs_base
//	96     8    gs_base
//	104    24   reserved: zero
const (
	VCPUOp = 24

	VCPUOpInitialise = 0
	VCPUOpUp         = 1
	VCPUOpDown       = 2
	VCPUOpIsUp       = 3
	VCPUOpSendIPI    = 0x1000

	VCPUContextSize = 128
	VCPUMode64      = 1

	// MinIPIVector is the lowest vector send_ipi accepts (0-31 are
	// exceptions).
	MinIPIVector = 32
)

// CPUIDTopology is Grove's CPUID leaf for the domain's shape: EAX = number of
// vCPUs, EBX = the asking vCPU's id.
const CPUIDTopology = 0x40000002

// VCPUContext is a secondary vCPU's start state.
type VCPUContext struct {
	Mode, Flags                 uint32
	RIP, RSP, RDI, RSI, RBX     uint64
	RFLAGS, CR0, CR3, CR4, EFER uint64
	FSBase, GSBase              uint64
	reserved                    [24]byte
}

// DecodeVCPUContext reads the 128-byte layout.
func DecodeVCPUContext(b []byte) (VCPUContext, bool) {
	var c VCPUContext
	if len(b) < VCPUContextSize {
		return c, false
	}
	le := binary.LittleEndian
	c.Mode, c.Flags = le.Uint32(b), le.Uint32(b[4:])
	for i, p := range c.words() {
		*p = le.Uint64(b[8+8*i:])
	}
	copy(c.reserved[:], b[104:VCPUContextSize])
	return c, true
}

// Encode writes c in its 128-byte layout.
func (c VCPUContext) Encode() []byte {
	b := make([]byte, VCPUContextSize)
	le := binary.LittleEndian
	le.PutUint32(b, c.Mode)
	le.PutUint32(b[4:], c.Flags)
	for i, p := range c.words() {
		le.PutUint64(b[8+8*i:], *p)
	}
	copy(b[104:], c.reserved[:])
	return b
}

// words lists the 64-bit fields in layout order.
func (c *VCPUContext) words() [12]*uint64 {
	return [12]*uint64{&c.RIP, &c.RSP, &c.RDI, &c.RSI, &c.RBX, &c.RFLAGS,
		&c.CR0, &c.CR3, &c.CR4, &c.EFER, &c.FSBase, &c.GSBase}
}

// Validate checks that c is a long-mode state a vCPU can start in; the
// error is EINVAL (the hypervisor names the field on its console).
func (c VCPUContext) Validate() (field string, err error) {
	switch {
	case c.Mode != VCPUMode64:
		return "mode", errno.EINVAL
	case c.Flags != 0 || c.reserved != [24]byte{}:
		return "flags or reserved bytes", errno.EINVAL
	case !canonical(c.RIP):
		return "rip", errno.EINVAL
	case !canonical(c.RSP):
		return "rsp", errno.EINVAL
	case c.RFLAGS&x86.RFLAGSMBS == 0 || c.RFLAGS>>32 != 0:
		return "rflags", errno.EINVAL
	case c.CR0&(x86.CR0PE|x86.CR0PG) != x86.CR0PE|x86.CR0PG || c.CR0>>32 != 0:
		return "cr0", errno.EINVAL
	case c.CR4&x86.CR4PAE == 0 || c.CR4&x86.CR4LA57 != 0:
		return "cr4", errno.EINVAL
	case c.EFER&x86.EFERLME == 0 || c.EFER&^(x86.EFERSCE|x86.EFERLME|x86.EFERLMA|x86.EFERNXE) != 0:
		return "efer", errno.EINVAL
	case c.CR3&0xfff0_0000_0000_0000 != 0:
		return "cr3", errno.EINVAL
	}
	return "", nil
}

// canonical reports a 48-bit canonical address.
func canonical(a uint64) bool {
	top := a >> 47
	return top == 0 || top == 1<<17-1
}
