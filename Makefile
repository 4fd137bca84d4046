# SPDX-License-Identifier: GPL-2.0
#
# kpaxos top-level Makefile.  The module itself is described by Kbuild;
# this file drives builds for one or several kernels, the user-space parts
# and the tests.  `make help` lists the targets.
#
# Kernel selection (module targets):
#   KDIR=<kernel build tree>   default /lib/modules/$(uname -r)/build, or the
#                              newest installed headers if that is missing
#   KVER=<version or series>   instead of KDIR: /lib/modules/<KVER>/build;
#                              a series (6.1, 6.12) picks the newest of it
# The module for kernel V is built in build/V/ (paxos.ko there), so builds
# for several kernels coexist.

PREFIX ?= /usr/local
DESTDIR ?=
SEEDS ?= 10000
export PREFIX DESTDIR

VERSION := $(shell scripts/version.sh)

# Sub-projects with their own Makefile, built by `make` and `make install`.
SUBDIRS := $(patsubst %/Makefile,%,$(wildcard userlib/Makefile \
	     tools/*/Makefile examples/*/Makefile))

# Extra kbuild arguments, e.g. make W=1 / make V=1.
KARGS := $(if $(W),W=$(W)) $(if $(V),V=$(V))
# KVER may list several kernels ("6.1 6.12"): each is built / tested.
# QUICK=1 and TESTS=<regex> are read by tests/run-all.sh.
export KVER QUICK TESTS
# $(call for_kernels,ARGS): scripts/build-module.sh ARGS for KDIR, for each
# of KVER, or for the default kernel.
for_kernels = set -e; \
	if [ -n "$(KDIR)" ]; then scripts/build-module.sh --kdir $(KDIR) $(1); \
	elif [ -n "$(KVER)" ]; then \
		for k in $(KVER); do scripts/build-module.sh --kver $$k $(1); done; \
	else scripts/build-module.sh $(1); fi

.PHONY: all modules userspace $(SUBDIRS) clean install modules_install \
	headers_install dkms-install dkms-uninstall test vmtest \
	vmtest-selftest debug-kernel sim sim-long unit kunit demo style check bench \
	bench-quick deps version help

all: modules userspace

modules:
	@$(call for_kernels,$(KARGS))

userspace: $(SUBDIRS)

$(SUBDIRS):
	$(MAKE) -C $@

clean:
	rm -rf build out
	@for d in $(SUBDIRS) tests/unit; do \
		[ -f $$d/Makefile ] && $(MAKE) -C $$d clean || true; \
	done

# ---- install ------------------------------------------------------------
install: modules_install headers_install
	@for d in $(SUBDIRS); do \
		if grep -q '^install:' $$d/Makefile; then \
			$(MAKE) -C $$d install || exit 1; \
		fi; \
	done

modules_install:
	@$(call for_kernels,--install $(KARGS))

headers_install:
	install -d $(DESTDIR)$(PREFIX)/include/linux
	install -m 0644 uapi/linux/paxos.h $(DESTDIR)$(PREFIX)/include/linux/

# DKMS: /usr/src/paxos-$(VERSION), built and installed for every kernel
# with headers (or KVER=...).
dkms-install:
	scripts/dkms-src.sh /usr/src/paxos-$(VERSION) $(VERSION)
	dkms add -m paxos -v $(VERSION) || dkms status -m paxos -v $(VERSION)
	@set -e; for k in $(if $(KVER),$$(scripts/kernels.sh $(KVER)),$$(ls /lib/modules)); do \
		[ -f /lib/modules/$$k/build/Makefile ] || continue; \
		dkms install -m paxos -v $(VERSION) -k $$k; \
	done

dkms-uninstall:
	dkms remove -m paxos -v $(VERSION) --all
	rm -rf /usr/src/paxos-$(VERSION)

# ---- tests --------------------------------------------------------------
# NODEPS=1 skips the dependency check (scripts/deps.sh).
deps:
	@$(if $(NODEPS),true,scripts/deps.sh)

# Everything; QUICK=1 skips the VM suites, TESTS=<regex> filters by name.
test: deps
	@tests/run-all.sh

# Only the VM tests (tests/vm/t-*.sh, m-*.sh), KVER=<v> for one kernel;
# KERNEL=debug: on the debug kernel (built first if needed).
vmtest: deps
ifeq ($(KERNEL),debug)
	@kunit/vmtest-debug.sh
else
	@tests/run-all.sh build vm
endif

# The KASAN/lockdep/kmemleak x86_64 kernel for the VM tests (cached in
# ~/.cache/kpaxos/debug, see docs/kunit.md).
debug-kernel: deps
	@kunit/debug-kernel.sh

vmtest-selftest: deps
	@tests/run-all.sh selftest

sim:
	$(MAKE) -C tools/sim run SEEDS=$(SEEDS)

sim-long:
	$(MAKE) -C tools/sim long

unit:
	$(MAKE) -C tests/unit check

kunit:
	@if [ -x kunit/run.sh ]; then kunit/run.sh; \
	else echo "kunit: kunit/run.sh does not exist yet"; exit 1; fi

demo: deps
	@scripts/demo.sh

style:
	@scripts/style.sh

# sparse, if installed (apt-get install sparse)
check:
	@command -v sparse >/dev/null || \
		{ echo "check: sparse not installed (apt-get install sparse)"; exit 1; }
	@$(call for_kernels,C=2 $(KARGS))

bench:
	@if [ -x tools/bench/run.sh ]; then tools/bench/run.sh; \
	else echo "bench: tools/bench/run.sh does not exist yet"; exit 1; fi

bench-quick:
	@if [ -x tools/bench/run.sh ]; then tools/bench/run.sh --quick; \
	else echo "bench: tools/bench/run.sh does not exist yet"; exit 1; fi

version:
	@echo $(VERSION)

help:
	@echo 'kpaxos $(VERSION)'
	@echo '  make [KDIR=..|KVER=..]  paxos.ko (in build/<kver>/), userlib, tools'
	@echo '  make modules            paxos.ko only;  W=1, V=1 go to kbuild'
	@echo '  make userspace          userlib, tools/*, examples/*'
	@echo '  make install            modules_install + library + headers + tools'
	@echo '                          (DESTDIR, PREFIX=$(PREFIX))'
	@echo '  make dkms-install       register with DKMS; dkms-uninstall'
	@echo '  make test               every test, ends "N passed, N failed"'
	@echo '                          QUICK=1: no VMs; TESTS=<regex>: filter'
	@echo '  make vmtest [KVER=6.12] the VM tests only (default: 6.1 and 6.12)'
	@echo '  make vmtest KERNEL=debug  the VM tests on the debug kernel'
	@echo '  make debug-kernel       build it (KASAN, lockdep, kmemleak; cached)'
	@echo '  make sim [SEEDS=N] | sim-long | unit | kunit | bench | bench-quick'
	@echo '  make demo               3-node cluster in a QEMU guest'
	@echo '  make style | check      checkpatch | sparse'
	@echo '  make clean'
