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
# The paths (BUILD, TREE, KBUILD, RESULTS, ...) and KSRC, JOBS and the other
# defaults are set in one place, scripts/lib.sh; a value given on the
# command line or in the environment reaches the scripts and wins.
# T: extended regex; only the plan entries whose names match are packed.
BUILD_DIR := $(shell BUILD='$(BUILD)' bash -c '. "$(TOP)/scripts/lib.sh" && echo "$$BUILD"')

S := $(TOP)/scripts

.PHONY: help setup validate tree kernel selftests initramfs run shell check \
	check-arm64 check-debug gates harness-test mutants bench export clean

help:
	@sed -n 's/^## //p' $(TOP)/Makefile

## Targets (times: 2 cores, ccache cold; see docs/figures.md):

## make run        apply series/ to the base, build, boot with pmem, run the test plan
##                  (12 min from a fresh clone: 7 to build, 5 in the VM; then 1 min per
##                  edited patch for T=dax_fault)
## make run ARCH=arm64  the same for an arm64 guest (cross-built, qemu-system-aarch64):
##                  tests/plan.arm64; results in build/arm64/results (docs/arm64-lane.md)
run: setup tree kernel selftests initramfs
	@$(S)/run.sh

## make shell      boot the same guest, pmem set up, to a shell on this terminal
shell: setup tree kernel selftests initramfs
	@SHELL_ON=1 $(S)/vm.sh

## make check      the test command: series gates (every KVM architecture), the
##                  x86_64 and arm64 lanes' builds, VM runs and mutants, the harness's
##                  own tests; ends with a table of steps (docs/figures.md has the
##                  measured times)
check: setup
	@$(S)/check.sh

## make check-arm64  the arm64 lane: its build, the VM run of tests/plan.arm64 and
##                  its mutants (make check's arm64 steps alone)
check-arm64: setup
	@$(S)/check.sh arm64

## make check-debug  the DAX and nested tests on a KASAN, lockdep, UBSAN, kmemleak kernel
check-debug: setup tree
	$(MAKE) run KBUILD=$(BUILD_DIR)/kbuild-debug RESULTS=$(BUILD_DIR)/results-debug \
		KCONFIG_EXTRA=config/debug.config VM_TIMEOUT=5400 \
		T='$(if $(T),$(T),dax_|svm|smm|^state_test|nested|pmem_teardown|kmemleak)'

## make mutants    re-inject known KVM/DAX bugs; the DAX tests must catch each
mutants: setup tree kernel selftests
	@$(S)/mutants.sh

## make bench      DAX against anonymous guest memory, and the series against the base
## make bench ARCH=arm64  the same on the arm64 lane (no SPTE statistics there);
##                  results in build/arm64/bench
bench: setup tree kernel selftests
	@$(S)/bench.sh

## make setup      install the Debian packages the harness needs (as root)
setup:
	@$(S)/setup.sh

## make validate   check tests/plan, tests/skiplist and their .arm64 twins (seconds;
##                  runs before every build)
validate:
	@ARCH=x86_64 $(S)/initramfs.sh --validate && ARCH=arm64 $(S)/initramfs.sh --validate

## make tree       build/linux: a git tree of the base with series/ applied
tree: validate
	@$(S)/tree.sh

## make export     regenerate series/ from the commits in build/linux
export:
	@$(S)/export.sh

## make kernel     configure (merge_config.sh + config/) and build bzImage (arm64: Image)
kernel: tree
	@$(S)/kernel.sh && bash -c '. "$(S)/lib.sh" && kernel_mark_clean'

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
	rm -rf $(BUILD_DIR)

## Variables (make VAR=value target, or in the environment):
##   ARCH=arm64       the arm64 lane (run, shell, kernel, selftests, initramfs, mutants, bench;
##                    default x86_64): its own build/arm64, plan and skip-list
##   T=regex          run only the plan entries whose names match (run, shell, check-debug)
##   KSRC=path        the base: a 6.12.y tree or tarball (default: Debian's linux-source-6.12)
##   JOBS=n           parallel build jobs (default: CPUs + 1)
##   KCONFIG_MINIMAL=0  x86: the kernel from x86_64_defconfig instead of the
##                    minimal one from allnoconfig (the default; docs/figures.md)
##   VM_TIMEOUT=s     stop the guest after this long in all (default 3000)
##   VM_SILENCE=s     stop the guest when its console is silent this long
##                    (default: the largest plan timeout + 90)
##   TCG_THREAD=single|multi   QEMU's TCG threading (default single, arm64: multi; see README)
##   MUTANTS_DIR=dir  the mutants to run (default tests/mutants; make mutants: about 5 min)
##   BENCH_MEM, BENCH_RUNS, BENCH_ROUNDS, BENCH_ICOUNT   make bench (about 14 min):
##                    memory per VM (1G), VMs per backing (3), boots per kernel (2),
##                    1: guest clock counts instructions, 0: wall clock
