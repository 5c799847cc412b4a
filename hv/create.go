package hv

import (
	"errors"
	"fmt"

	"grove/boot/guest"
	"grove/errno"
	"grove/hv/abi"
	"grove/hv/svm"
)

// CreateDomain builds a domain from cfg. Like Xen's, a new domain starts
// paused once: Unpause starts it. The privileged domain becomes dom0; the
// others get the next free id, and ENOSPC when none is left. Errors name the
// domain and wrap the cause, so errors.Is finds its errno. A failure at any
// step gives back what the steps before it took.
func (h *Hypervisor) CreateDomain(cfg Config) (*Domain, error) {
	d, err := h.create(cfg)
	if err != nil {
		return nil, fmt.Errorf("domain %q: %w", cfg.Name, err)
	}
	return d, nil
}

func (h *Hypervisor) create(cfg Config) (*Domain, error) {
	if cfg.MemoryMB < 2 || cfg.MemoryMB > 16384 {
		return nil, fmt.Errorf("memory %d MiB out of range 2..16384: %w", cfg.MemoryMB, errno.EINVAL)
	}
	if cfg.VCPUs < 0 || cfg.VCPUs > MaxVCPUs {
		return nil, fmt.Errorf("%d vCPUs out of range 1..%d: %w", cfg.VCPUs, MaxVCPUs, errno.EINVAL)
	}
	d, err := h.reserve(cfg)
	if err != nil {
		return nil, err
	}
	if err := d.build(cfg); err != nil {
		h.unregister(d)
		return nil, err
	}
	if err := h.groups.AddDomain(grpDomain{d}); err != nil { // into the null group
		d.free() // never visible: no reader can hold it
		h.unregister(d)
		return nil, fmt.Errorf("joining the null group: %w", err)
	}
	d.ready.Store(true)
	return d, nil
}

// reserve takes d's id and registers d, paused and not yet ready: lookups
// skip it until it is built.
func (h *Hypervisor) reserve(cfg Config) (*Domain, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var id DomID
	if cfg.Privileged {
		if _, taken := h.domains[0]; taken {
			return nil, errors.New("there is already a control domain")
		}
	} else {
		var err error
		if id, err = h.ids.alloc(); err != nil {
			return nil, err
		}
	}
	d := &Domain{ID: id, Name: cfg.Name, Privileged: cfg.Privileged, hv: h,
		state: domPaused, pauseCount: 1}
	h.domains[id] = d
	return d, nil
}

// unregister drops d from the registry and frees its id.
func (h *Hypervisor) unregister(d *Domain) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.domains, d.ID)
	if d.ID != 0 {
		h.ids.free(d.ID)
	}
}

// build gives d its RAM with the image loaded and its paused vCPU; on
// failure it has freed what it took.
func (d *Domain) build(cfg Config) error {
	n := svm.ASIDs
	if n < 2 {
		n = 2
	}
	d.asid = 1 + uint32(d.ID)%(n-1) // shared ASIDs are flushed on switch (sched.go)
	ram, err := newGuestRAM(uint64(cfg.MemoryMB) << 20)
	if err != nil {
		return err
	}
	start, err := load(ram, cfg)
	if err != nil {
		ram.free()
		return err
	}
	d.ram = ram
	if cfg.Privileged { // it may own COM2 (VIRQSerial): a map of its own
		if d.iopm, err = allocPages(svm.IOPMPages, 1); err != nil {
			d.free()
			return err
		}
		svm.InitIOPM(d.iopm)
	}
	for i := 0; i < max(cfg.VCPUs, 1); i++ {
		v, err := newVCPU(d, i, start)
		if err != nil {
			d.free()
			return err
		}
		v.affinity = cfg.Affinity
		v.state = vcpuPaused // vCPU 0 runs at the first unpause
		if i > 0 {
			v.state = vcpuDown // until the guest brings it up (vcpu_op)
		}
		d.vcpus = append(d.vcpus, v)
	}
	if needsPC(cfg) {
		if d.pc, err = newPlatform(d); err != nil {
			d.free()
			return err
		}
	}
	return nil
}

// MaxVCPUs bounds a domain's vCPUs (abi.CreateMaxVCPUs).
const MaxVCPUs = abi.CreateMaxVCPUs

// free gives back the pages of d's vCPUs and RAM; d keeps its fields (a
// late Info still reads them), but nothing may run d or touch its memory.
func (d *Domain) free() {
	for _, v := range d.vcpus {
		v.free()
	}
	d.ram.free()
	if d.iopm != 0 {
		freePages(d.iopm, svm.IOPMPages)
	}
}

// load plans cfg's image into RAM and returns how its vCPUs start. The
// image's first bytes pick the boot protocol, in QEMU -kernel's order: a
// bzImage's "HdrS" at 0x202 boots Linux through its 32-bit boot protocol
// with cfg.Initrd, boot_params and ACPI tables (guest.NewLinuxPlan); a
// multiboot header in the first 8 KiB boots a multiboot kernel with
// cfg.Initrd as its one module (guest.NewMultibootPlan); anything else must
// be a PVH ELF, started the way Xen PVH boots a guest (guest.NewPlan).
func load(ram *guestRAM, cfg Config) (startState, error) {
	plan, err := planImage(ram.size, cfg)
	if err != nil {
		return startState{}, badImage{err}
	}
	for _, w := range plan.Writes {
		// w.Zero bytes follow Data; guest RAM comes zeroed from the kernel.
		if err := ram.write(w.GPA, w.Data); err != nil {
			return startState{}, err
		}
	}
	return startState{entry: plan.Entry, info: uint32(plan.StartInfo), reg: plan.StartReg}, nil
}

// badImage is an image the loader refused: the caller's mistake, so it
// carries EINVAL (unless its cause names an errno of its own) and prints
// as the loader's message alone.
type badImage struct{ err error }

func (e badImage) Error() string   { return e.err.Error() }
func (e badImage) Unwrap() []error { return []error{e.err, errno.EINVAL} }

func planImage(memBytes uint64, cfg Config) (*guest.Plan, error) {
	switch {
	case guest.IsBzImage(cfg.Image):
		img, err := guest.ParseLinux(cfg.Name, cfg.Image)
		if err != nil {
			return nil, err
		}
		return guest.NewLinuxPlan(img, guest.LinuxConfig{MemBytes: memBytes, Cmdline: linuxCmdline(cfg.Cmdline),
			Initrd: cfg.Initrd, VCPUs: max(cfg.VCPUs, 1)})
	case guest.IsMultiboot(cfg.Image):
		img, err := guest.ParseMultiboot(cfg.Name, cfg.Image)
		if err != nil {
			return nil, err
		}
		var mods [][]byte
		if len(cfg.Initrd) > 0 {
			mods = [][]byte{cfg.Initrd}
		}
		return guest.NewMultibootPlan(img, guest.MultibootConfig{MemBytes: memBytes, Cmdline: cfg.Cmdline,
			Modules: mods, VCPUs: max(cfg.VCPUs, 1)})
	}
	if len(cfg.Initrd) > 0 {
		return nil, fmt.Errorf("an initrd is for a Linux bzImage or a multiboot kernel, and the image is neither: %w", errno.EINVAL)
	}
	img, err := guest.ParseImage(cfg.Name, cfg.Image)
	if err != nil {
		return nil, err
	}
	return guest.NewPlan(img, memBytes, cfg.Cmdline, nil)
}

// needsPC says whether cfg's image is a stock kernel that expects a PC
// around it: Linux, or a multiboot kernel (QEMU's test kernels talk to its
// serial port, fw_cfg and exit port).
func needsPC(cfg Config) bool {
	return cfg.PC || guest.IsBzImage(cfg.Image) || guest.IsMultiboot(cfg.Image)
}
