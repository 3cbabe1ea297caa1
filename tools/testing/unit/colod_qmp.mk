# SPDX-License-Identifier: GPL-2.0
# colod: the QMP client (json-c), against a real QEMU when qemu-system-x86_64 exists.
UNIT_TESTS += test_colod_qmp
test_colod_qmp_SRCS := unit/test_colod_qmp.c ../colod/qmp.c
test_colod_qmp_CFLAGS := -I$(REPO)/tools $(shell pkg-config --cflags json-c)
LDLIBS += $(shell pkg-config --libs json-c)
