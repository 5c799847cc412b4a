# Grove: `make run` boots it in QEMU, `make test` runs every test.
SHELL := /bin/bash
GO      ?= go
OUT     := out
IMAGE   := $(OUT)/grove.elf
APPEND  ?=
HEARTBEAT := $(OUT)/heartbeat.elf
AGENT   := $(OUT)/agent.elf
# The demo boot bundle: examples/demo.toml plus the Go guests it names.
BUNDLE  := $(OUT)/demo.cpio
KERNEL_ENV := CGO_ENABLED=0 GOOS=linux GOARCH=amd64
# -T/-R put the image at 2 MiB with page-aligned segments at a constant
# file offset, which the multiboot loader and groveimg rely on.
KERNEL_LDFLAGS := -T 0x200000 -R 0x1000
QEMU    := qemu-system-x86_64 -machine q35 -cpu max -m 512M -smp 2 -accel tcg,thread=multi -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04

.PHONY: all image guests bundle linux run-linux iso run test test-host test-selftest test-qemu bench conformance prereqs vet clean

all: image

prereqs:
	@./scripts/prereqs.sh

image:
	@mkdir -p $(OUT)
	$(KERNEL_ENV) $(GO) build -trimpath -ldflags='$(KERNEL_LDFLAGS)' -o $(OUT)/grove.linked ./cmd/grove
	$(GO) run ./cmd/groveimg -o $(IMAGE) $(OUT)/grove.linked

# Go guests: the same kernel layer in its guest flavour, PVH-only images.
guests:
	@mkdir -p $(OUT)
	$(KERNEL_ENV) $(GO) build -tags groveguest -trimpath -ldflags='$(KERNEL_LDFLAGS)' -o $(OUT)/heartbeat.linked ./guests/heartbeat
	$(GO) run ./cmd/groveimg -protocols=pvh -o $(HEARTBEAT) $(OUT)/heartbeat.linked
	$(KERNEL_ENV) $(GO) build -tags groveguest -trimpath -ldflags='$(KERNEL_LDFLAGS)' -o $(OUT)/agent.linked ./guests/agent
	$(GO) run ./cmd/groveimg -protocols=pvh -o $(AGENT) $(OUT)/agent.linked

bundle: guests
	$(GO) run ./cmd/grovebundle -o $(BUNDLE) -config examples/demo.toml \
		guests/agent.elf=$(AGENT) guests/heartbeat.elf=$(HEARTBEAT)

# Linux guests (docs/linux.md): Debian's cloud kernel through apt-get and a
# u-root initramfs into out/linux (each skipped when present), then a bundle
# of LINUX_CONFIG with them and the Go guests.
LINUX_DIR    := $(OUT)/linux
LINUX_CONFIG ?= examples/linux.toml
LINUX_BUNDLE := $(OUT)/linux.cpio

linux: guests
	./scripts/linux.sh $(LINUX_DIR)
	$(GO) run ./cmd/grovebundle -o $(LINUX_BUNDLE) -config $(LINUX_CONFIG) \
		guests/agent.elf=$(AGENT) guests/heartbeat.elf=$(HEARTBEAT) \
		linux/vmlinuz=$(LINUX_DIR)/vmlinuz linux/initramfs.cpio=$(LINUX_DIR)/initramfs.cpio
	@echo "wrote $(LINUX_BUNDLE); boot it with: make run-linux"

# Like run, with the Linux bundle and room for its 256 MiB domain.
run-linux: prereqs image linux
	$(subst -m 512M,-m 1G,$(QEMU)) -nographic $(CONTROL) \
		-kernel $(IMAGE) -append "$(APPEND)" -initrd $(LINUX_BUNDLE) || [ $$? -eq 33 ]

iso: prereqs image
	./boot/mkiso.sh $(IMAGE) $(OUT)/grove.iso "$(APPEND)"
	@echo "wrote $(OUT)/grove.iso, for BIOS and UEFI (boot it: $(QEMU) -nographic -cdrom $(OUT)/grove.iso; for UEFI add -bios /usr/share/OVMF/OVMF_CODE.fd)"

# The host channel: COM2 on a socket, and its shared memory (an ivshmem
# device backed by a file beside the socket; grovectl maps it, docs/grovectl.md).
CONTROL := -serial mon:stdio -serial unix:$(OUT)/grove.sock,server=on,wait=off \
	-object memory-backend-file,id=ctlshm,share=on,mem-path=$(OUT)/grove.sock.shm,size=1M \
	-device ivshmem-plain,memdev=ctlshm

# The console is this terminal; Ctrl-A X quits QEMU, 'halt' powers off.
run: prereqs image bundle
	@echo "Booting Grove in QEMU (console on this terminal; quit with Ctrl-A X or 'halt')"
	@echo "grovectl reaches dom0's agent through $(OUT)/grove.sock (see README)"
	$(QEMU) -nographic $(CONTROL) \
		-kernel $(IMAGE) -append "$(APPEND)" -initrd $(BUNDLE) || [ $$? -eq 33 ]

# The image links the built-in guests prebuilt (guests/builtin), never the
# test-guest assembler. kcheck: kernel-context functions say so and do not
# allocate (internal/kcheck).
vet:
	$(GO) vet ./cmd/... ./boot/... ./domgrp/... ./rcu/... ./qemu/... ./errno/... ./ctl/... ./acpi/... ./internal/... ./x86/...
	@if $(KERNEL_ENV) $(GO) list -deps ./cmd/grove | grep -x 'grove/guests/asm'; then \
		echo 'vet: the image links the test-guest assembler (see guests/builtin)'; exit 1; fi
	$(GO) vet -unsafeptr=false -framepointer=false ./kernel/... ./hv/...
	$(KERNEL_ENV) $(GO) vet -tags groveguest -unsafeptr=false -framepointer=false ./kernel/ ./guests/...
	$(GO) run ./cmd/kcheck

test: prereqs vet test-host test-selftest test-qemu

test-host:
	$(GO) test -race -count=1 -timeout 15m $$($(GO) list ./... | grep -v /qemu)

test-selftest: image
	./scripts/selftest.sh $(IMAGE)

test-qemu: image guests linux
	GROVE_REQUIRE_LINUX=1 GROVE_IMAGE=$(CURDIR)/$(IMAGE) $(GO) test -count=1 -timeout 15m -v ./qemu/ 2>&1 | tee $(OUT)/qemu-test.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)' ; \
	rc=$${PIPESTATUS[0]}; if [ $$rc -ne 0 ]; then ./scripts/failures.sh $(OUT)/qemu-test.log; fi; exit $$rc

# The host benchmarks first (their output in out/bench/host-bench.txt,
# shown only if they fail), then the QEMU ones, whose run ends with one
# table of every figure (out/bench/report.md). BENCHFLAGS=-v shows the
# guests' serial logs as they come.
BENCH_DIR := $(OUT)/bench
bench: prereqs image linux
	@mkdir -p $(BENCH_DIR)
	@echo "host benchmarks (rcu, domgrp) -> $(BENCH_DIR)/host-bench.txt"
	@$(GO) test -run '^$$' -bench . -benchmem ./rcu/ ./domgrp/ >$(BENCH_DIR)/host-bench.txt 2>&1 || \
		{ cat $(BENCH_DIR)/host-bench.txt; exit 1; }
	GROVE_HOST_BENCH=$(CURDIR)/$(BENCH_DIR)/host-bench.txt GROVE_REQUIRE_LINUX=1 GROVE_IMAGE=$(CURDIR)/$(IMAGE) \
		$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 45m $(BENCHFLAGS) ./qemu/

# kvm-unit-tests' x86 suite directly under QEMU TCG and as Grove domains,
# side by side (docs/conformance.md). KUT=DIR is a kvm-unit-tests build;
# the project neither contains nor downloads it. Without KUT the runner says
# what it needs and exits 2. CONFORMANCE_FLAGS passes more (-run, -j, -all,
# -kvm-peer=false). The vmexit tests also run under QEMU/KVM nested in TCG
# when `make linux` has fetched the kernel and KVM's modules.
KUT ?=
conformance:
	@mkdir -p $(OUT)/bin
	@$(GO) build -o $(OUT)/bin/conformance ./cmd/conformance
	@$(KERNEL_ENV) $(GO) build -o $(OUT)/bin/kvminit ./cmd/conformance/kvminit
	@if [ -n "$(KUT)" ]; then $(MAKE) --no-print-directory image; fi
	$(OUT)/bin/conformance -kut "$(KUT)" -image $(IMAGE) -out $(OUT)/conformance $(CONFORMANCE_FLAGS)

clean:
	rm -rf $(OUT)
