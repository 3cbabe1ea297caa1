# SPDX-License-Identifier: GPL-2.0
# colod: the configuration file parser (libinih).
UNIT_TESTS += test_colod_config
test_colod_config_SRCS := unit/test_colod_config.c ../colod/config.c
test_colod_config_CFLAGS := -I$(REPO)/tools $(shell pkg-config --cflags inih)
LDLIBS += $(shell pkg-config --libs inih)
