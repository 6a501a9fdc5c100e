# SPDX-License-Identifier: GPL-2.0
#
# kvm-dax: a KVM patch series for ZONE_DEVICE (DAX) guest memory, and the
# harness that proves it.  The targets read as the pipeline:
#
#   setup -> tree -> kernel, selftests -> initramfs -> run (VM + report)
#
# "make run" is the main job, "make check" the test command (CI calls it).
# Every step is a script in scripts/; this file only orders them.

export TOP := $(CURDIR)
export BUILD ?= $(TOP)/build
export TREE ?= $(BUILD)/linux
export KBUILD ?= $(BUILD)/kbuild
export SELFTESTS_TREE ?= $(TREE)
export RESULTS ?= $(BUILD)/results
# T: extended regex; only the plan entries whose names match run.
export T ?=
# KSRC: the base, Debian's linux-source-6.12 tarball unless set.
export KSRC ?= /usr/src/linux-source-6.12.tar.xz

S := $(TOP)/scripts

.PHONY: help setup tree kernel selftests initramfs run check check-debug gates \
	harness-test mutants bench export clean

help:
	@sed -n 's/^## //p' $(TOP)/Makefile

## make run        apply series/ to the base, build, boot with pmem, run the test plan
run: setup tree kernel selftests initramfs
	@$(S)/run.sh

## make check      the test command: series gates, the VM run, mutants, the harness's own tests
check: setup
	@$(S)/check.sh

## make check-debug  the DAX and nested tests on a KASAN, lockdep, UBSAN, kmemleak kernel
check-debug: setup tree
	$(MAKE) run KBUILD=$(BUILD)/kbuild-debug RESULTS=$(BUILD)/results-debug \
		KCONFIG_EXTRA=config/debug.config VM_TIMEOUT=5400 \
		T='$(if $(T),$(T),dax_|svm|smm|state_test|nested|pmem_teardown|kmemleak)'

## make mutants    re-inject known KVM/DAX bugs; the DAX tests must catch each
mutants: setup tree kernel selftests
	@$(S)/mutants.sh

## make bench      DAX against anonymous guest memory, and the series against the base
bench: setup tree kernel selftests
	@$(S)/bench.sh

## make setup      install the Debian packages the harness needs (as root)
setup:
	@$(S)/setup.sh

## make tree       build/linux: a git tree of the base with series/ applied
tree:
	@$(S)/tree.sh

## make export     regenerate series/ from the commits in build/linux
export:
	@$(S)/export.sh

## make kernel     configure (merge_config.sh + config/) and build bzImage
kernel: tree
	@$(S)/kernel.sh

## make selftests  build and install the KVM selftests (kselftest install)
selftests: tree
	@$(S)/selftests.sh

## make initramfs  pack busybox, ndctl and the selftests with tests/plan
initramfs: selftests
	@$(S)/initramfs.sh

## make gates      checkpatch, bisectability, sparse and coccicheck on series/
gates: setup tree
	@$(S)/gates.sh

## make harness-test  the harness's own tests (tests/harness/)
harness-test:
	@$(TOP)/tests/harness/run.sh

## make clean      remove build/ (the tree under it too: export first)
clean:
	rm -rf $(BUILD)
