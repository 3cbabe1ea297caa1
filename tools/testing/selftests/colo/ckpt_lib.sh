#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Helpers shared by the colo_ckpt tests and demo.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ckpt_build_guest OUT.elf: build the tiny multiboot guest (ckpt_guest.S)
# that QEMU boots with -kernel; it writes 1024 pages in a loop.
ckpt_build_guest()
{
	gcc -m32 -nostdlib -static -no-pie -Wl,-Ttext=0x100000 -Wl,--build-id=none \
		-o "$1" "$SELFTESTS/ckpt_guest.S"
}
