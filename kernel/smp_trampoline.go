package kernel

import "encoding/binary"

// The application-processor trampoline (AMD APM vol. 2, 15.27.8 and 14.1;
// Intel SDM vol. 3, 9.4.4): a STARTUP IPI starts an AP in real mode at
// CS:IP = vector<<8:0, so the code must sit on a page below 1 MiB. It goes
// straight from real mode to long mode (PE and PG set by one MOV CR0, with
// EFER.LME and CR4.PAE already on, which the architecture allows), loads the
// kernel's page tables, and jumps to apEntry64 with the AP's stack, its CPU
// index and its FS base taken from the data words below. The Go assembler
// cannot emit 16-bit code, so the instructions are hand-encoded bytes, each
// with its mnemonic; the boot path copies them to apTrampolinePA.

const (
	apTrampolinePA = 0x8000 // page below 1 MiB, reserved with the low 2 MiB
	apSIPIVector   = apTrampolinePA >> 12

	// Offsets in the trampoline page.
	apOff64      = 0x0c0 // 64-bit code
	apOffGDT     = 0x100 // null, 64-bit code (0x08), data (0x10)
	apOffGDTR    = 0x118 // u16 limit, u32 base
	apOffCR3     = 0x120 // u32: the kernel's PML4 (must lie below 4 GiB)
	apOffStack   = 0x128 // u64: stack top for apEntry64
	apOffEntry   = 0x130 // u64: apEntry64's address
	apOffCPU     = 0x138 // u64: the AP's index in cpus (RDI)
	apOffFSBase  = 0x140 // u64: FS base for Go's TLS word (RSI)
	apOffStarted = 0x148 // u32: set by the AP in 64-bit mode
	apPageSize   = 0x150
)

// apCode16 runs at CS = 0x0800, IP = 0 (DS is set to CS first).
var apCode16 = []byte{
	0xfa,       // cli
	0xfc,       // cld
	0x8c, 0xc8, // mov ax, cs
	0x8e, 0xd8, // mov ds, ax
	0x66, 0x0f, 0x01, 0x16, apOffGDTR & 0xff, apOffGDTR >> 8, // lgdt o32 [apOffGDTR]
	0x66, 0xa1, apOffCR3 & 0xff, apOffCR3 >> 8, // mov eax, [apOffCR3]
	0x0f, 0x22, 0xd8, // mov cr3, eax
	0x0f, 0x20, 0xe0, // mov eax, cr4
	0x66, 0x0d, 0x20, 0x06, 0x00, 0x00, // or eax, PAE|OSFXSR|OSXMMEXCPT
	0x0f, 0x22, 0xe0, // mov cr4, eax
	0x66, 0xb9, 0x80, 0x00, 0x00, 0xc0, // mov ecx, MSR EFER
	0x0f, 0x32, // rdmsr
	0x66, 0x0d, 0x01, 0x09, 0x00, 0x00, // or eax, SCE|LME|NXE
	0x0f, 0x30, // wrmsr
	0x0f, 0x20, 0xc0, // mov eax, cr0
	0x66, 0x25, 0xf3, 0xff, 0xff, 0x9f, // and eax, ~(EM|TS|CD|NW)
	0x66, 0x0d, 0x23, 0x00, 0x00, 0x80, // or eax, PG|NE|MP|PE
	0x0f, 0x22, 0xc0, // mov cr0, eax
	0x66, 0xea, // jmp far o32 0x08:apTrampolinePA+apOff64
	(apTrampolinePA + apOff64) & 0xff, (apTrampolinePA + apOff64) >> 8 & 0xff, 0, 0,
	0x08, 0x00,
}

// apCode64 runs in 64-bit mode at apTrampolinePA+apOff64. Both byte slices
// must be constant data: the boot path copies them before any Go init runs.
var apCode64 = []byte{
	0x66, 0xb8, 0x10, 0x00, // mov ax, 0x10
	0x8e, 0xd8, // mov ds, ax
	0x8e, 0xc0, // mov es, ax
	0x8e, 0xd0, // mov ss, ax
	0xc7, 0x04, 0x25, (apTrampolinePA + apOffStarted) & 0xff, (apTrampolinePA + apOffStarted) >> 8, 0, 0, 1, 0, 0, 0, // mov dword [started], 1
	0x48, 0x8b, 0x24, 0x25, (apTrampolinePA + apOffStack) & 0xff, (apTrampolinePA + apOffStack) >> 8, 0, 0, // mov rsp, [stack]
	0x48, 0x8b, 0x3c, 0x25, (apTrampolinePA + apOffCPU) & 0xff, (apTrampolinePA + apOffCPU) >> 8, 0, 0, // mov rdi, [cpu]
	0x48, 0x8b, 0x34, 0x25, (apTrampolinePA + apOffFSBase) & 0xff, (apTrampolinePA + apOffFSBase) >> 8, 0, 0, // mov rsi, [fsbase]
	0x48, 0x8b, 0x04, 0x25, (apTrampolinePA + apOffEntry) & 0xff, (apTrampolinePA + apOffEntry) >> 8, 0, 0, // mov rax, [entry]
	0xff, 0xe0, // jmp rax
}

// apTrampoline fills page (the trampoline's page, as bytes) with the code,
// the GDT and the data words that do not change between APs.
// Boot path.
func apTrampoline(page []byte, cr3 uint32, entry uint64) {
	clear(page[:apPageSize])
	copy(page, apCode16)
	copy(page[apOff64:], apCode64)
	le := binary.LittleEndian
	le.PutUint64(page[apOffGDT+8:], 0x00af9a000000ffff)  // 64-bit code, DPL0
	le.PutUint64(page[apOffGDT+16:], 0x00cf92000000ffff) // flat data, DPL0
	le.PutUint16(page[apOffGDTR:], 3*8-1)
	le.PutUint32(page[apOffGDTR+2:], apTrampolinePA+apOffGDT)
	le.PutUint32(page[apOffCR3:], cr3)
	le.PutUint64(page[apOffEntry:], entry)
}

// apTrampolineAP sets the per-AP words before its STARTUP IPI.
// Boot path.
func apTrampolineAP(page []byte, cpu int, stack, fsBase uintptr) {
	le := binary.LittleEndian
	le.PutUint64(page[apOffStack:], uint64(stack))
	le.PutUint64(page[apOffCPU:], uint64(cpu))
	le.PutUint64(page[apOffFSBase:], uint64(fsBase))
	le.PutUint32(page[apOffStarted:], 0)
}
