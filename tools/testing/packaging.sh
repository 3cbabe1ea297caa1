#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Packaging checks on the host, in private directories (nothing is installed
# on the machine): "make install" with DESTDIR puts the modules under
# extra/, coloctl and colod under /usr/sbin, colod's unit and the man pages
# in place; DKMS builds and installs the modules
# from dkms.conf, using its own source, build and install trees. TAP output.
set -u
. "$(dirname "$0")/selftests/colo/lib.sh"
. "$REPO/tools/testing/vm/kernel.sh"
KVER=$(colo_kernel_version)
work=$(mktemp -d /tmp/colo-packaging.XXXXXX)
on_exit "rm -rf '$work'"

t_check "make install DESTDIR=... succeeds" \
	make -s -C "$REPO" install DESTDIR="$work/root" KVER="$KVER"
for m in colo_proxy colo_blk colo_ckpt; do
	t_check "make install: $m.ko under /lib/modules/$KVER/extra" \
		test -n "$(find "$work/root/lib/modules/$KVER/extra" -name "$m.ko")"
done
t_check "make install: coloctl in /usr/sbin" test -x "$work/root/usr/sbin/coloctl"
t_check "make install: colod in /usr/sbin" test -x "$work/root/usr/sbin/colod"
t_check "make install: colod@.service" test -f "$work/root/lib/systemd/system/colod@.service"
t_check "make install: man pages colod(8), coloctl(8), colod.conf(5)" \
	test -f "$work/root/usr/share/man/man8/colod.8" -a -f "$work/root/usr/share/man/man8/coloctl.8" \
	-a -f "$work/root/usr/share/man/man5/colod.conf.5"

if command -v dkms > /dev/null; then
	src="$work/src/colo-0.1"
	mkdir -p "$src" "$work/dkms" "$work/installed"
	git -C "$REPO" ls-files -z | (cd "$REPO" && xargs -0 cp --parents -t "$src")
	dkms_opts=(-m colo -v 0.1 -k "$KVER" --sourcetree "$work/src" --dkmstree "$work/dkms"
		   --installtree "$work/installed")
	t_check "dkms add (dkms.conf accepted)" dkms add "${dkms_opts[@]}"
	t_check "dkms build for $KVER" dkms build "${dkms_opts[@]}"
	for m in colo_proxy colo_blk colo_ckpt; do
		t_check "dkms built $m.ko" sh -c "ls '$work'/dkms/colo/0.1/$KVER/*/module/$m.ko*"
	done
else
	t_fail "dkms is installed (scripts/setup.sh installs it)"
fi
t_done
