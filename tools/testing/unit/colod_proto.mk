# SPDX-License-Identifier: GPL-2.0
# colod: the agent-to-agent protocol codec and the receiver's session.
UNIT_TESTS += test_colod_proto
test_colod_proto_SRCS := unit/test_colod_proto.c ../colod/proto.c
test_colod_proto_CFLAGS := -I$(REPO)/tools
