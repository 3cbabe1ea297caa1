# SPDX-License-Identifier: GPL-2.0
# colod: the configuration file parser (libinih), parse/print round trip.
FUZZERS += fuzz_colod_config
fuzz_colod_config_SRCS := fuzz/fuzz_colod_config.c ../colod/config.c
fuzz_colod_config_CFLAGS := -I$(REPO)/tools $(shell pkg-config --cflags inih)
fuzz_colod_config_LIBS := $(shell pkg-config --libs inih)
