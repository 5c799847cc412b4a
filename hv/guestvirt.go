package hv

// Guest pointers are guest-virtual. With paging off they are physical; with
// long-mode paging on, the guest's own 4-level tables (CR3) are walked in
// guest-physical memory. A missing or non-present entry is -EFAULT, never a
// host fault.

const (
	cr0PG    = 1 << 31
	pteP     = 1
	ptePS    = 1 << 7
	pteAddr  = 0x000ffffffffff000
	pageSize = 4096
)

// translate maps a guest-virtual address to guest-physical.
func (v *VCPU) translate(gva uint64) (uint64, error) {
	if v.vmcb.CR0()&cr0PG == 0 {
		return gva & 0xffffffff, nil
	}
	table := v.vmcb.CR3() & pteAddr
	for level := 3; level >= 0; level-- {
		idx := (gva >> (12 + 9*uint(level))) & 511
		e, err := v.dom.ram.u64(table + idx*8)
		if err != nil || e&pteP == 0 {
			return 0, errFault
		}
		if level == 0 || (level < 3 && e&ptePS != 0) {
			span := uint64(1) << (12 + 9*uint(level))
			return e&pteAddr&^(span-1) | gva&(span-1), nil
		}
		table = e & pteAddr
	}
	return 0, errFault
}

// copyIn reads n bytes at guest-virtual gva, page by page.
func (v *VCPU) copyIn(gva uint64, n int) ([]byte, error) {
	out := make([]byte, n)
	for done := 0; done < n; {
		gpa, err := v.translate(gva + uint64(done))
		if err != nil {
			return nil, err
		}
		chunk := min(n-done, int(pageSize-gpa%pageSize))
		if v.dom.ram.read(gpa, out[done:done+chunk]) != nil {
			return nil, errFault
		}
		done += chunk
	}
	return out, nil
}

// copyOut writes b at guest-virtual gva.
func (v *VCPU) copyOut(gva uint64, b []byte) error {
	for done := 0; done < len(b); {
		gpa, err := v.translate(gva + uint64(done))
		if err != nil {
			return err
		}
		chunk := min(len(b)-done, int(pageSize-gpa%pageSize))
		if v.dom.ram.write(gpa, b[done:done+chunk]) != nil {
			return errFault
		}
		done += chunk
	}
	return nil
}
