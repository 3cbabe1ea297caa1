/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The smallest guest that keeps writing its RAM: a multiboot (v1) kernel
 * whose loop stores a running counter at the start of each page of
 * [4 MiB, 8 MiB) and at a moving offset inside it. QEMU boots it with
 * -kernel; built by ckpt_build_guest in ckpt_lib.sh.
 */
	.text
	.globl _start
	.align 4
	.long 0x1BADB002
	.long 0
	.long -0x1BADB002
_start:
	cli
	xorl %ecx, %ecx
1:	movl $0x400000, %edi
	movl $1024, %edx
2:	movl %ecx, (%edi)
	movl %ecx, %eax
	andl $1023, %eax
	movl %ecx, (%edi,%eax,4)
	addl $4096, %edi
	incl %ecx
	decl %edx
	jnz 2b
	jmp 1b
