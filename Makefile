# SPDX-License-Identifier: GPL-2.0
# COLO kernel modules and tools.
#
#   make               modules (colo_proxy.ko, colo_blk.ko, colo_ckpt.ko) and tools
#   make check         unit tests, short fuzz runs, then the in-kernel tests in a VM
#   make demo          the replication demonstration, in a VM
#   make bench         benchmarks, in a VM (tables with baselines side by side)
#   make fuzz          every fuzz target for FUZZ_SECONDS (default 60)
#   make install       modules_install, then coloctl, colod in /usr/sbin; colod@.service,
#                      man pages
#   make modules_install  the built modules under /lib/modules/<ver>/extra, then depmod
#                      for <ver> (not with DESTDIR)
#   make guest         the end-to-end test guest (kernel, initramfs, snapshot; cached)
#   make setup         install the Debian packages all of this needs
# KDIR= (or KVER=) selects the kernel; default: the newest installed with headers.

ifeq ($(origin KDIR),undefined)
KVER ?= $(shell bash -c '. tools/testing/vm/kernel.sh && colo_kernel_version')
KDIR := /lib/modules/$(KVER)/build
endif
DESTDIR ?=
INSTALL_MOD_PATH ?= $(DESTDIR)
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= /lib/systemd/system
TESTING := tools/testing

all: modules tools

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools/coloctl
	$(MAKE) -C tools/colod

test-helpers:
	$(MAKE) -C $(TESTING)/selftests/colo
	$(TESTING)/vm/mutant/build.sh $(KDIR)

guest:
	$(MAKE) -C $(TESTING)/guest images

# Harness self-check only: a module that provokes a kernel WARNING.
inject-modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(TESTING)/vm/inject modules

# The release the modules were built for, as the kernel that loads them
# reports it (uname -r): the directory modprobe looks in. Read at run time
# from KDIR, whose include/config/kernel.release may differ (Debian's
# headers carry the upstream version there).
KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' $(KDIR)/include/generated/utsrelease.h)

# Kbuild runs depmod only when KDIR has a System.map, which header packages
# do not ship; without depmod, modprobe does not find the modules. A staged
# install (DESTDIR) gets no index files: they would replace the system's
# when the stage is unpacked, and the package's own step runs depmod there.
modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) INSTALL_MOD_DIR=extra modules_install
	$(if $(INSTALL_MOD_PATH),,depmod $(KREL))

install: all
	$(MAKE) modules_install
	install -D -m 0755 tools/coloctl/coloctl $(DESTDIR)$(SBINDIR)/coloctl
	install -D -m 0755 tools/colod/colod $(DESTDIR)$(SBINDIR)/colod
	install -D -m 0644 tools/colod/colod@.service $(DESTDIR)$(UNITDIR)/colod@.service
	install -D -m 0644 Documentation/man/colod.8 $(DESTDIR)$(MANDIR)/man8/colod.8
	install -D -m 0644 Documentation/man/coloctl.8 $(DESTDIR)$(MANDIR)/man8/coloctl.8
	install -D -m 0644 Documentation/man/colod.conf.5 $(DESTDIR)$(MANDIR)/man5/colod.conf.5

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(TESTING)/vm/inject clean
	$(MAKE) -C tools/coloctl clean
	$(MAKE) -C tools/colod clean
	$(MAKE) -C $(TESTING)/selftests/colo clean
	$(MAKE) -C $(TESTING)/unit clean
	$(MAKE) -C $(TESTING)/fuzz clean
	$(MAKE) -C $(TESTING)/guest clean
	rm -rf $(TESTING)/vm/mutant/build

setup:
	@scripts/setup.sh

unit:
	$(MAKE) -C $(TESTING)/unit check

fuzz:
	$(MAKE) -C $(TESTING)/fuzz fuzz

check: setup
	@$(TESTING)/run-all.sh

demo: setup
	@$(TESTING)/demo/run-demo.sh

bench: setup
	@$(TESTING)/bench/run-bench.sh

.PHONY: all modules tools guest test-helpers inject-modules modules_install install clean setup unit fuzz check demo bench
