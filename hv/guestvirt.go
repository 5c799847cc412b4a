package hv

import "grove/x86/paging"

// Guest pointers are guest-virtual. paging.Translate walks the guest's own
// tables in its RAM under whatever mode its CR0/CR4/EFER select (none,
// legacy 32-bit, PAE, 4-level long mode); 5-level paging is refused. A
// non-present entry or a table outside the guest's RAM is -EFAULT, never a
// host fault.

const pageSize = paging.PageSize

// guestTables reaches page-table pages in a guest's RAM for the walker.
type guestTables struct{ ram *guestRAM }

func (g guestTables) Table(gpa uint64) *[512]uint64 {
	if gpa%pageSize != 0 {
		return nil
	}
	if _, err := g.ram.slice(gpa, pageSize); err != nil {
		return nil
	}
	return tableAt(g.ram.chunks[gpa/hugePage] + uintptr(gpa%hugePage))
}

// translate maps a guest-virtual address to guest-physical.
func (v *VCPU) translate(gva uint64) (uint64, error) {
	regs := paging.Regs{CR0: v.vmcb.CR0(), CR3: v.vmcb.CR3(), CR4: v.vmcb.CR4(), EFER: v.vmcb.EFER()}
	gpa, ok := paging.Translate(regs, guestTables{v.dom.ram}, gva)
	if !ok {
		return 0, errFault
	}
	return gpa, nil
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
