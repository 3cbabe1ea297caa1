# SPDX-License-Identifier: GPL-2.0
# coloctl: the parsers of what colo_proxy.ko sends back (libnl-3).
FUZZERS += fuzz_coloctl_proxy
fuzz_coloctl_proxy_SRCS := fuzz/fuzz_coloctl_proxy.c ../coloctl/proxy_msg.c
fuzz_coloctl_proxy_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0)
fuzz_coloctl_proxy_LIBS := $(shell pkg-config --libs libnl-genl-3.0)
