# SPDX-License-Identifier: GPL-2.0
# colo_proxy core: parse + compare of frame sequences, TCP rewriting, tunnel
# sequence window, neighbour table and answers.
FUZZ_PROXY_CORE := ../../kernel/colo_proxy/parse.c ../../kernel/colo_proxy/compare.c \
	../../kernel/colo_proxy/rewrite.c ../../kernel/colo_proxy/seqwin.c \
	../../kernel/colo_proxy/neigh.c ../../kernel/colo_proxy/limits.c
FUZZERS += fuzz_proxy_compare fuzz_proxy_rewrite fuzz_proxy_seqwin fuzz_proxy_neigh
fuzz_proxy_compare_SRCS := fuzz/fuzz_proxy_compare.c $(FUZZ_PROXY_CORE)
fuzz_proxy_rewrite_SRCS := fuzz/fuzz_proxy_rewrite.c $(FUZZ_PROXY_CORE)
fuzz_proxy_seqwin_SRCS := fuzz/fuzz_proxy_seqwin.c $(FUZZ_PROXY_CORE)
fuzz_proxy_neigh_SRCS := fuzz/fuzz_proxy_neigh.c $(FUZZ_PROXY_CORE)
