# SPDX-License-Identifier: GPL-2.0
# colo_proxy core: frame parsing, compare engine, TCP rewriting, tunnel
# sequence window, neighbour answers for the SVM, table and hold bounds.
PROXY_CORE := ../../kernel/colo_proxy/parse.c ../../kernel/colo_proxy/compare.c \
	../../kernel/colo_proxy/rewrite.c ../../kernel/colo_proxy/seqwin.c \
	../../kernel/colo_proxy/neigh.c ../../kernel/colo_proxy/limits.c
UNIT_TESTS += test_proxy_parse test_proxy_compare test_proxy_rewrite test_proxy_seqwin \
	test_proxy_neigh test_proxy_limits
test_proxy_parse_SRCS := unit/test_proxy_parse.c $(PROXY_CORE)
test_proxy_compare_SRCS := unit/test_proxy_compare.c $(PROXY_CORE)
test_proxy_rewrite_SRCS := unit/test_proxy_rewrite.c $(PROXY_CORE)
test_proxy_seqwin_SRCS := unit/test_proxy_seqwin.c $(PROXY_CORE)
test_proxy_neigh_SRCS := unit/test_proxy_neigh.c $(PROXY_CORE)
test_proxy_limits_SRCS := unit/test_proxy_limits.c $(PROXY_CORE)
