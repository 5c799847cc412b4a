// Package svm is Grove's access to AMD SVM (AMD64 Architecture Programmer's
// Manual vol. 2, chapter 15; VMCB layout in appendix B): turning SVM on per
// CPU, the VMCB as an identity-mapped physical page with named fields, the
// shared I/O and MSR permission maps, the event and exit-information
// formats, and the VMRUN path. It decides nothing: which instructions are
// intercepted (SetIntercepts), which MSRs pass through (PassMSR), exit
// handling and scheduling are package hv's.
//
// VMRUN runs as a kernel long call (kernel/longcall.go): in kernel context,
// with interrupts off, so the sequence CLGI; STI; VMRUN; CLI; STGI leaves a
// host interrupt that ended the guest's run pending until the thread
// resumes, where the kernel takes it as usual. Between two entries of one
// long call the exit fast path (fast.go) answers the exits hv's tables
// cover; the floor (floor.go) is the cheapest loop there is, for
// benchmarks. runGuest and what it
// calls are the only code here in kernel context (`make vet` checks that
// they are marked and do not allocate). What QEMU's TCG model of SVM lacks or gets wrong, and how
// Grove copes, is in docs/qemu-tcg.md.
package svm
