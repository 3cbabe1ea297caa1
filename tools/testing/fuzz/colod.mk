# SPDX-License-Identifier: GPL-2.0
# colod: the agent-to-agent protocol, parsed and checked the way a receiver does.
FUZZERS += fuzz_colod_proto
fuzz_colod_proto_SRCS := fuzz/fuzz_colod_proto.c ../colod/proto.c
fuzz_colod_proto_CFLAGS := -I$(REPO)/tools
